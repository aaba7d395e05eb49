"""`idp realname check TYPE NUMBER [--json]`: exit 0 valid, 1 invalid."""

from __future__ import annotations

import json


def test_a_valid_id_number_prints_its_region_birth_date_and_sex(app):
    result = app.test_cli_runner().invoke(args=["realname", "check", "id-number",
                                                "11010519491231002x"])
    assert result.exit_code == 0, result.output
    assert "valid id-number: 11010519491231002X" in result.output
    assert "110105" in result.output and "1949-12-31" in result.output


def test_an_invalid_number_exits_1_with_the_reason(app):
    result = app.test_cli_runner().invoke(args=["realname", "check", "id-number",
                                                "110105194912310021"])
    assert result.exit_code == 1
    assert "bad_check_digit" in result.output


def test_json_output_carries_the_normalised_number_and_fields(app):
    result = app.test_cli_runner().invoke(args=["realname", "check", "credit-code",
                                                "91350100M000100Y43", "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert found["valid"] is True and found["normalised"] == "91350100M000100Y43"


def test_a_15_digit_legacy_number_is_converted(app):
    result = app.test_cli_runner().invoke(args=["realname", "check", "id-number",
                                                "110105491231002", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["normalised"] == "11010519491231002X"


def test_an_unknown_type_is_a_usage_error_listing_the_types(app):
    result = app.test_cli_runner().invoke(args=["realname", "check", "driving-licence", "x"])
    assert result.exit_code == 2
    assert "passport" in result.output
