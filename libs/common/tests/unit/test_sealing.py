"""Sealed personal values: they open only with the citizen's key, for the subject and field they were sealed for;
a citizen's key reaches a reader wrapped for that reader alone."""

from __future__ import annotations

import pytest

from satupintu.common.sealing import (
    CitizenKey,
    SealError,
    WrappedKey,
    is_sealed,
    load_private_key,
    load_public_key,
    new_reader_key,
    open_sealed,
    private_pem,
    public_pem,
    seal,
    seal_fields,
    sealed_key_id,
    unwrap,
    wrap,
)

pytestmark = pytest.mark.unit

NIK = "3171015506900002"


def test_a_sealed_value_opens_with_its_key_for_its_subject_and_field_only() -> None:
    key, other = CitizenKey.new(), CitizenKey.new()
    token = seal(NIK, key, subject="app-1", field="applicant/nik")

    assert is_sealed(token)
    assert NIK not in token
    assert sealed_key_id(token) == key.key_id
    assert open_sealed(token, key, subject="app-1", field="applicant/nik") == NIK
    for wrong in (
        lambda: open_sealed(token, other, subject="app-1", field="applicant/nik"),
        lambda: open_sealed(token, key, subject="app-2", field="applicant/nik"),
        lambda: open_sealed(token, key, subject="app-1", field="applicant/name"),
        lambda: open_sealed(token[:-4] + "AAAA", key, subject="app-1", field="applicant/nik"),
    ):
        with pytest.raises(SealError):
            wrong()


def test_values_of_any_json_kind_round_trip_and_only_personal_fields_are_sealed() -> None:
    key = CitizenKey.new()
    values = {"mother_name": "Sri Wahyuni", "children": 2, "income_bracket": "B", "married": True, "note": None}

    sealed = seal_fields(values, {"mother_name", "children", "married", "note"}, key, subject="app-1")

    assert sealed["income_bracket"] == "B"
    assert sealed["note"] is None
    assert all(is_sealed(sealed[name]) for name in ("mother_name", "children", "married"))
    assert {name: open_sealed(sealed[name], key, subject="app-1", field=name) for name in ("children", "married")} == {
        "children": 2,
        "married": True,
    }


def test_a_citizen_key_wrapped_for_one_reader_unwraps_only_with_that_readers_private_key() -> None:
    key = CitizenKey.new()
    reader, stranger = new_reader_key(), new_reader_key()
    record = WrappedKey(key.key_id, "agency.polres", wrap(key, load_public_key(public_pem(reader))))

    received = WrappedKey.from_json(record.to_json())
    assert unwrap(received.key_id, received.wrapped, load_private_key(private_pem(reader))) == key
    with pytest.raises(SealError):
        unwrap(received.key_id, received.wrapped, stranger)
    assert key.secret.hex() not in repr(key)
