"""Season Planner's agents: parameter extraction, tools, the LLM agents and their deterministic twin.

This package shares its import name with the OpenAI Agents SDK (PyPI `openai-agents`, import name
`agents`). The project folder comes first on sys.path, so without help the SDK would be shadowed.
We merge the two: this package's ``__path__`` is extended with the SDK's folder and the SDK's own
``__init__`` runs here, so ``from agents import Agent, Runner`` (SDK) and
``from agents.extraction import extract_parameters`` (ours) both work. Our module names must not
collide with the SDK's; ``agents/tests/test_package.py`` checks that.
"""
import os as _os
import sys as _sys


def _sdk_folder():
    here = _os.path.dirname(_os.path.abspath(__file__))
    for entry in _sys.path:
        candidate = _os.path.join(entry or _os.getcwd(), "agents")
        if _os.path.abspath(candidate) == here:
            continue
        if _os.path.isfile(_os.path.join(candidate, "__init__.py")) and _os.path.isfile(
            _os.path.join(candidate, "run.py")
        ):
            return candidate
    return None


SDK_FOLDER = _sdk_folder()
if SDK_FOLDER is not None:
    __path__.append(SDK_FOLDER)  # noqa: F821  (package __path__)
    _init = _os.path.join(SDK_FOLDER, "__init__.py")
    with open(_init, encoding="utf-8") as _fh:
        exec(compile(_fh.read(), _init, "exec"), globals())  # noqa: S102
