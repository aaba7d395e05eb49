"""Every vector in vectors.json (standards' own examples and constructed ones) checks out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from realname.documents import DocumentType, check, check_passport
from realname.documents.checksums import org_code_check

VECTORS = json.loads((Path(__file__).with_name("vectors.json")).read_text(encoding="utf-8"))
OPTIONAL = ("normalised", "region_code", "region_name", "birth_date", "sex", "nationality",
            "document_type")


def _id(vector: dict[str, Any]) -> str:
    return f"{vector['type']}:{vector['number']}"


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=_id)
def test_vector_gives_its_published_outcome(vector):
    if "issuing_state" in vector:
        result = check_passport(vector["number"], vector["issuing_state"])
    else:
        result = check(vector["type"], vector["number"])
    found = result.to_dict()
    assert (found["valid"], found["reason"]) == (vector["valid"], vector["reason"])
    for key in OPTIONAL:
        if key in vector:
            assert found[key] == vector[key], key


def test_every_vector_names_its_source():
    for vector in VECTORS["vectors"] + VECTORS["org_codes"]:
        assert vector["source"].strip(), vector


def test_every_document_type_has_valid_and_invalid_vectors():
    kinds = {(v["type"], v["valid"]) for v in VECTORS["vectors"]}
    assert kinds == {(kind.value, valid) for kind in DocumentType for valid in (True, False)}


@pytest.mark.parametrize("vector", VECTORS["org_codes"], ids=lambda v: v["body"])
def test_organisation_code_check_character_matches_gb_11714(vector):
    assert org_code_check(vector["body"]) == vector["check"]
