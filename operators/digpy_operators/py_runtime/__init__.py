"""Files the ``py>`` operator runs in a child Python process: ``runner.py`` (the entry
script) and ``digdag.py`` (the module task code imports as ``import digdag``).

Nothing here is imported by digpy itself. Both files must stay standalone (stdlib only, no
``digpy`` import) and run on any Python 3.7 or later, because ``python:`` may name an
interpreter other than digpy's own.
"""

from pathlib import Path

RUNTIME_DIR = Path(__file__).resolve().parent
RUNNER = RUNTIME_DIR / "runner.py"
