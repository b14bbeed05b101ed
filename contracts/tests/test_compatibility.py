"""A checked-in schema is what consumers were promised for that type and version:
the models may only grow it. A breaking change ships as a new version."""

import json
from pathlib import Path

import pytest

from attain_contracts.compat import breaking_changes
from attain_contracts.schemagen import CONTRACTS_ROOT, rendered_files

pytestmark = pytest.mark.unit

CHECKED_IN = sorted((CONTRACTS_ROOT / "schemas").glob("*.json"))


def test_schemas_are_checked_in():
    assert CHECKED_IN, "no schemas under contracts/schemas: run the generator"


@pytest.mark.parametrize("path", CHECKED_IN, ids=lambda path: path.name)
def test_models_keep_the_checked_in_schema(path: Path):
    generated = rendered_files().get(path.relative_to(CONTRACTS_ROOT).as_posix())
    assert generated is not None, (
        f"{path.name} is published but its type is gone from the models; consumers still read it"
    )

    changes = breaking_changes(json.loads(path.read_text()), json.loads(generated))

    assert not changes, f"{path.name} changed incompatibly, publish a new version instead: " + (
        "; ".join(map(str, changes))
    )
