"""Real-person check (name, number, face photo) through the HTTP adapter against the simulator."""

from __future__ import annotations

import struct
import zlib

import requests

from realname.platform import IMAGE_LIMIT, Outcome, PlatformResult, Reason


def _jpeg_with(comment: bytes) -> bytes:
    """SOI, a COM segment and EOI: enough for the simulator's magic-byte check."""
    return b"\xff\xd8" + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + b"\xff\xd9"


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length:at + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        chunks.append((kind, body))
        at += 12 + length
    return chunks


def test_the_persons_own_portrait_matches_with_a_high_score(platform, simulator):
    person = simulator.population()[0]
    result = platform.check_real_person(person.name, person.id_number,
                                        simulator.portrait(person.id_number), "png")
    assert result.outcome is Outcome.MATCH and result.reason is None
    assert result.score is not None and 0.9 <= result.score <= 0.99
    assert simulator.transactions()[0]["score"] == result.score


def test_the_portrait_served_over_http_is_a_valid_png_that_matches(platform, simulator):
    person = simulator.population()[1]
    with requests.Session() as http:
        response = http.get(simulator.url + "/_sim/portrait",
                            params={"id_number": person.id_number}, timeout=5)
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
    chunks = _png_chunks(response.content)
    assert [kind for kind, _ in chunks] == [b"IHDR", b"tEXt", b"tEXt", b"IDAT", b"IEND"]
    width, height, depth, colour = struct.unpack(">IIBB", chunks[0][1][:10])
    assert (depth, colour) == (8, 2)
    assert len(zlib.decompress(chunks[3][1])) == height * (1 + 3 * width)
    assert chunks[1][1].startswith(b"ctid-sim-face\x00") and len(chunks[1][1]) == 14 + 64
    result = platform.check_real_person(person.name, person.id_number, response.content,
                                        "image/png")
    assert result.outcome is Outcome.MATCH


def test_someone_elses_portrait_is_face_mismatch_with_a_low_deterministic_score(
        platform, simulator):
    person, other = simulator.population()[:2]
    image = simulator.portrait(other.id_number)
    first = platform.check_real_person(person.name, person.id_number, image, "png")
    again = platform.check_real_person(person.name, person.id_number, image, "png")
    assert (first.outcome, first.reason) == (Outcome.NO_MATCH, Reason.FACE_MISMATCH)
    assert first.score is not None and 0.2 <= first.score < 0.4
    assert again.score == first.score


def test_a_jpeg_carrying_the_persons_marker_matches(platform, simulator):
    person = simulator.population()[2]
    [marker] = [body for kind, body in _png_chunks(simulator.portrait(person.id_number))
                if kind == b"tEXt" and body.startswith(b"ctid-sim-face\x00")]
    result = platform.check_real_person(person.name, person.id_number, _jpeg_with(marker),
                                        "jpg")
    assert result.outcome is Outcome.MATCH


def test_a_non_image_is_bad_image_from_the_platform_and_not_retried(platform, simulator):
    person = simulator.population()[0]
    result = platform.check_real_person(person.name, person.id_number, b"not an image", "png")
    assert result == PlatformResult.bad_image(attempts=1)
    assert [r["code"] for r in simulator.transactions()] == ["BAD_IMAGE"]


def test_a_png_declared_as_jpeg_is_bad_image(platform, simulator):
    person = simulator.population()[0]
    result = platform.check_real_person(person.name, person.id_number,
                                        simulator.portrait(person.id_number), "jpeg")
    assert result.reason == Reason.BAD_IMAGE and result.attempts == 1


def test_an_image_over_the_limit_is_refused_without_being_sent(platform, simulator):
    person = simulator.population()[0]
    image = simulator.portrait(person.id_number)
    big = image + b"\x00" * (IMAGE_LIMIT + 1 - len(image))
    result = platform.check_real_person(person.name, person.id_number, big, "png")
    assert result == PlatformResult.bad_image(attempts=0)
    assert simulator.transactions() == []


def test_an_unsupported_image_type_is_refused_without_being_sent(platform, simulator):
    person = simulator.population()[0]
    result = platform.check_real_person(person.name, person.id_number, b"GIF89a...", "gif")
    assert result == PlatformResult.bad_image(attempts=0)
    assert simulator.transactions() == []


def test_the_wrong_name_is_name_mismatch_without_a_score(platform, simulator):
    person = simulator.population()[0]
    result = platform.check_real_person("王五六", person.id_number,
                                        simulator.portrait(person.id_number), "png")
    assert (result.outcome, result.reason, result.score) == (
        Outcome.NO_MATCH, Reason.NAME_MISMATCH, None)


def test_an_unknown_number_is_not_found(platform):
    result = platform.check_real_person("张三", "11010519491231002X", b"\x89PNG\r\n\x1a\n..",
                                        "png")
    assert (result.outcome, result.reason, result.score) == (
        Outcome.NOT_FOUND, Reason.NUMBER_NOT_FOUND, None)


def test_a_platform_match_below_the_adapters_threshold_is_face_mismatch(
        make_platform, simulator):
    strict = make_platform(min_score=0.995)
    person = simulator.population()[0]
    result = strict.check_real_person(person.name, person.id_number,
                                      simulator.portrait(person.id_number), "png")
    assert simulator.transactions()[0]["result"] == "match"
    assert (result.outcome, result.reason) == (Outcome.NO_MATCH, Reason.FACE_MISMATCH)
    assert result.score is not None and result.score >= 0.9
