"""Names, ID numbers and images never reach the logs, whatever happens to the check."""

from __future__ import annotations

import base64
import logging

from realname.platform import Reason


def test_no_name_id_number_or_image_reaches_the_logs(make_platform, simulator, caplog):
    caplog.set_level(logging.DEBUG)
    people = simulator.population()[:4]
    image = simulator.portrait(people[0].id_number)
    platform = make_platform()
    platform.check_name_and_number(people[0].name, people[0].id_number)
    platform.check_name_and_number(people[1].name + "某", people[1].id_number)
    platform.check_name_and_number("欧阳明月", "11010519491231002X")
    platform.check_real_person(people[0].name, people[0].id_number, image, "png")
    platform.check_real_person(people[1].name, people[1].id_number, image, "png")
    platform.check_real_person(people[1].name, people[1].id_number, b"not an image", "png")
    make_platform(app_secret="wrong").check_name_and_number(people[2].name, people[2].id_number)
    simulator.set_tamper("forge")
    assert platform.check_name_and_number(
        "欧阳明月", people[2].id_number).reason == Reason.BAD_RESPONSE
    simulator.set_tamper("off")
    simulator.set_outage("down")
    platform.check_name_and_number(people[3].name, people[3].id_number)
    simulator.set_outage("off")
    simulator.set_rate_limit(0)
    platform.check_real_person(people[3].name, people[3].id_number, image, "png")

    messages = [record.getMessage() for record in caplog.records]
    logged = "\n".join(messages + [repr(record.args) for record in caplog.records])
    assert sum("request_id=" in m and "outcome=" in m for m in messages) == 10
    secrets = [p.name for p in people] + [p.id_number for p in people] + [
        "欧阳明月", "11010519491231002X", base64.b64encode(image).decode()[:40]]
    assert [s for s in secrets if s in logged] == []
    assert [p.id_number[-6:] for p in people if p.id_number[-6:] in logged] == []
