"""A project module named like digpy's runner script: the project's one must win."""


def which() -> None:
    print("the project's runner module")
