from __future__ import annotations

import pytest

from channels.base import Recipient
from channels.errors import InvalidRecipient
from channels.kinds import ChannelKind


@pytest.mark.parametrize(
    ("kind", "given", "normalised"),
    [
        (ChannelKind.EMAIL, "Maire@Abbeville.FR", "Maire@abbeville.fr"),
        (ChannelKind.SMS, "06 12 34 56 78", "+33612345678"),
        (ChannelKind.SMS, "+33 3 22 97 80 80", "+33322978080"),
        (ChannelKind.TELEGRAM, "-1001234567890", "-1001234567890"),
        (ChannelKind.TELEGRAM, "@prefecture_somme", "@prefecture_somme"),
        (ChannelKind.MATRIX, "@cellule:agent.tchap.gouv.fr", "@cellule:agent.tchap.gouv.fr"),
        (ChannelKind.MATRIX, "!AbCd:agent.tchap.gouv.fr", "!AbCd:agent.tchap.gouv.fr"),
        (ChannelKind.X, "", "public"),
        (ChannelKind.WEBHOOK, "https://www.somme.gouv.fr/hook", "https://www.somme.gouv.fr/hook"),
    ],
)
def test_valid_addresses_are_normalised(kind: ChannelKind, given: str, normalised: str) -> None:
    assert Recipient(kind=kind, address=given).address == normalised


@pytest.mark.parametrize(
    ("kind", "address"),
    [
        (ChannelKind.EMAIL, "maire@abbeville"),
        (ChannelKind.EMAIL, "maire abbeville.fr"),
        (ChannelKind.EMAIL, "maire..x@abbeville.fr"),
        (ChannelKind.SMS, "12"),
        (ChannelKind.SMS, "06 12 34"),
        (ChannelKind.SMS, "not a number"),
        (ChannelKind.TELEGRAM, "chat"),
        (ChannelKind.TELEGRAM, "@ab"),
        (ChannelKind.MATRIX, "cellule@tchap"),
        (ChannelKind.MATRIX, "@cellule"),
        (ChannelKind.WEBHOOK, "ftp://somme.gouv.fr"),
    ],
)
def test_a_malformed_address_is_refused_naming_the_recipient(
    kind: ChannelKind, address: str
) -> None:
    with pytest.raises(InvalidRecipient) as caught:
        Recipient(kind=kind, address=address, display_name="Mme la maire d'Abbeville")
    assert "Mme la maire d'Abbeville" in str(caught.value)
    assert caught.value.recipient == "Mme la maire d'Abbeville"


def test_a_mobile_of_the_fiction_range_is_accepted_but_another_invalid_one_is_not() -> None:
    fiction = Recipient(kind=ChannelKind.SMS, address="06 39 98 00 42")
    assert fiction.address == "+33639980042"
    with pytest.raises(InvalidRecipient):
        Recipient(kind=ChannelKind.SMS, address="+33 6 39 99 00 42")  # next to the range
