"""No stored value can break a mail: line breaks and NULs never reach a header."""

from __future__ import annotations

import email
import email.policy

import pytest
from pydantic import ValidationError

from services.intake.accounts import CityCreate
from services.notify.mailer import compose


def test_a_city_name_with_a_line_break_cannot_add_a_header():
    msg = compose("certification@wwc.local", "staff@springfield.example",
                  "We received Springfield\r\nBcc: attacker@evil.example's assessment", "body")
    wire = msg.as_bytes()
    parsed = email.message_from_bytes(wire, policy=email.policy.default)
    assert parsed["Bcc"] is None and "attacker@evil.example" in parsed["Subject"]
    assert "\n" not in str(parsed["Subject"]) and parsed["To"] == "staff@springfield.example"


def test_a_nul_never_goes_raw_into_a_subject():
    msg = compose("certification@wwc.local", "staff@springfield.example", "Spring\x00field", "a\x00b")
    assert b"\x00" not in msg.as_bytes()
    assert str(msg["Subject"]) == "Spring field"


def test_non_ascii_names_are_encoded_not_mangled():
    msg = compose("certification@wwc.local", "staff@sao-paulo.example", "Recebemos a avaliação de São Paulo", "ok")
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "Recebemos a avaliação de São Paulo"


@pytest.mark.parametrize("field", ["name", "contact_name", "state"])
@pytest.mark.parametrize("bad", ["Spring\r\nfield", "Spring\x00field", "Spring\u202efield", "Spring\tfield"])
def test_registration_refuses_control_characters_in_names(field, bad):
    data = {"name": "Springfield", "state": "IL", "country": "US", "population": 116_250,
            "contact_name": "Jordan Lee", "contact_email": "jordan@springfield.example",
            "password": "correct-horse-battery", field: bad}
    with pytest.raises(ValidationError) as err:
        CityCreate(**data)
    assert err.value.errors()[0]["loc"] == (field,)
