"""Print pip constraints pinning every runtime dependency to the lowest version pyproject.toml allows.

`make test-lowest` installs the package with these pins into a separate virtualenv and runs the suite, so
each floor in pyproject.toml is a version the tests have passed on, not a guess. The floors are read from
pyproject.toml itself: raising one there raises it here.

Covered: [project].dependencies and the extras a site installs the plugin with (modeladmin, redis,
postgres, channels). The test tools' own floors (pytest, playwright, ...) are not the plugin's requirements.
"""

import re
import sys
import tomllib
from pathlib import Path

EXTRAS = ("modeladmin", "redis", "postgres", "channels")
# "name[extra]>=1.2,<2": runs in a fresh virtualenv before anything is installed, so no `packaging` here.
REQUIREMENT = re.compile(r"^\s*(?P<name>[A-Za-z0-9._-]+)\s*(\[[^\]]*\])?\s*(?P<specifiers>[^;]*)")


def _version_key(version):
    return tuple(int(part) for part in version.split("."))


def lowest_pins(pyproject):
    project = tomllib.loads(Path(pyproject).read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in EXTRAS:
        requirements += project["optional-dependencies"][extra]
    pins = {}
    for line in requirements:
        match = REQUIREMENT.match(line)
        name = match["name"].lower()
        floors = [
            spec.strip()[2:].strip()
            for spec in match["specifiers"].split(",")
            if spec.strip()[:2] in (">=", "==", "~=")
        ]
        if not floors:
            sys.exit(f"{name} has no lower bound in pyproject.toml: give it one.")
        pins[name] = max([pins.get(name, "0"), *floors], key=_version_key)
    return pins


def main(argv):
    """``lowest_constraints.py [OUTPUT]``: write the pins to OUTPUT, or print them."""
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    text = "".join(f"{name}=={version}\n" for name, version in sorted(lowest_pins(pyproject).items()))
    if argv:
        Path(argv[0]).write_text(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
