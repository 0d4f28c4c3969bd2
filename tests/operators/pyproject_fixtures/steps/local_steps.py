"""A module that lives in a subfolder: found when the task's ``_workdir`` is ``steps``."""


def here() -> None:
    print("found in the workdir")
