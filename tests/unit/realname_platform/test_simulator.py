"""The simulator itself: its synthetic population, its control endpoints and its command line."""

from __future__ import annotations

import io
import json
import threading

import pytest
import requests

from realname.identifiers import is_valid_id_number
from realname.platform import Outcome, Reason
from realname.platform.simulator import PlatformSimulator, serve
from realname.platform.simulator.population import AREAS, check_digit, generate


def test_the_gb11643_example_gets_check_character_x():
    assert check_digit("11010519491231002") == "X"
    assert check_digit("44052418800101001") == "4"


def test_generated_numbers_pass_the_independent_realname_check():
    people = generate(seed=3, count=200)
    assert len({p.id_number for p in people}) == 200
    assert all(is_valid_id_number(p.id_number) for p in people)
    assert {p.id_number[:6] for p in people} <= set(AREAS)
    assert all(2 <= len(p.name) <= 3 for p in people)


def test_the_same_seed_gives_the_same_people_and_another_seed_others():
    assert generate(seed=5, count=10) == generate(seed=5, count=10)
    assert generate(seed=5, count=10) != generate(seed=6, count=10)


def test_a_person_with_a_wrong_check_digit_cannot_be_added():
    simulator = PlatformSimulator(people=0, latency_ms=0)
    with pytest.raises(ValueError, match="check digit"):
        simulator.add_person("张三", "110105194912310021")
    assert simulator.population() == []


def test_a_population_file_adds_its_people(tmp_path):
    path = tmp_path / "people.json"
    path.write_text(json.dumps([{"name": "李四", "id_number": "11010519491231002X"}]),
                    encoding="utf-8")
    simulator = PlatformSimulator(people=2, latency_ms=0, population_file=path)
    assert [(p.name, p.id_number) for p in simulator.population()][-1] == (
        "李四", "11010519491231002X")
    assert len(simulator.population()) == 3


def test_the_control_endpoints_drive_the_faults(platform, simulator):
    person = simulator.population()[0]
    with requests.Session() as http:
        def control(path: str, body: object) -> requests.Response:
            return http.post(simulator.url + path, json=body, timeout=5)

        assert control("/_sim/outage", {"mode": "error"}).status_code == 200
        assert platform.check_name_and_number(person.name, person.id_number).reason == (
            Reason.UNAVAILABLE)
        assert control("/_sim/outage", {"mode": "sideways"}).status_code == 400
        assert control("/_sim/reset", {}).status_code == 200
        assert http.get(simulator.url + "/_sim/transactions", timeout=5).json() == []
        assert control("/_sim/rate-limit", {"per_second": 0}).status_code == 200
        assert platform.check_name_and_number(person.name, person.id_number).reason == (
            Reason.RATE_LIMITED)
        assert control("/_sim/rate-limit", {"per_second": None}).status_code == 200
        assert control("/_sim/people", {"name": "李四",
                                        "id_number": "11010519491231002X"}).status_code == 201
        assert platform.check_name_and_number("李四", "11010519491231002X").outcome is (
            Outcome.MATCH)
        listed = http.get(simulator.url + "/_sim/transactions", timeout=5)
        population = http.get(simulator.url + "/_sim/population", timeout=5).json()
    assert [r["status"] for r in listed.json()] == [429, 429, 429, 200]
    assert "11010519491231002X" not in listed.text and "1101**********002X" in listed.text
    assert {"name": "李四", "id_number": "11010519491231002X"} in population


def test_serve_prints_its_url_and_says_the_sample_people_are_synthetic():
    out, stop = io.StringIO(), threading.Event()
    stop.set()  # return as soon as it has started and printed
    serve("127.0.0.1", 0, "ctid-dev", "secret", seed=11, people=3, latency_ms=0, out=out,
          until=stop)
    text = out.getvalue()
    assert "http://127.0.0.1:" in text and "synthetic, not real persons" in text
    assert all(p.id_number in text for p in generate(seed=11, count=3))
