"""The layer ships what the tests ran on: shared/requirements.txt (what `sam build` installs into
the layer) and requirements.txt (what the tests install) pin the same versions, botocore and every
other transitive dependency included, and those are the versions installed here."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def _pins(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """name -> (pinned version, extras) of every requirement line; each must be an exact pin."""
    pins: dict[str, tuple[str, frozenset[str]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        requirement = Requirement(text)
        (specifier,) = requirement.specifier  # exactly one ...
        assert specifier.operator == "==", f"{path.name}: {text} is not pinned with =="
        pins[canonicalize_name(requirement.name)] = (specifier.version, frozenset(requirement.extras))
    return pins


LAYER = _pins(ROOT / "shared" / "requirements.txt")
TESTED = _pins(ROOT / "requirements.txt")


def test_the_layer_and_the_tests_pin_the_same_versions():
    assert LAYER == TESTED
    assert "botocore" in LAYER and "boto3" in LAYER


def test_the_pins_are_the_installed_versions():
    installed = {name: metadata.version(name) for name in TESTED}
    assert installed == {name: version for name, (version, _) in TESTED.items()}


def test_every_dependency_of_a_pinned_package_is_pinned_itself():
    """Nothing in the layer floats: an unpinned transitive dependency is what let botocore drift."""
    unpinned: set[str] = set()
    for name, (_, extras) in TESTED.items():
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            wanted = requirement.marker is None or any(
                requirement.marker.evaluate({"extra": extra}) for extra in (*extras, "")
            )
            if wanted and canonicalize_name(requirement.name) not in TESTED:
                unpinned.add(f"{requirement.name} (needed by {name})")
    assert unpinned == set()
