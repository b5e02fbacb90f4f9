"""Spoken calls on the real database: the display's audio of a call is a WAV espeak-ng spoke (Indonesian, then
English where set), made once per phrase and kept on disk; the display page carries its own script and the audio
address of each call."""

from __future__ import annotations

import asyncio
import io
import wave
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from .conftest import RunningMall

pytestmark = pytest.mark.integration
WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("announcements")


@pytest.fixture(scope="module")
def mall_settings(cache_dir: Path) -> dict[str, Any]:
    """Announcements in English too, cached in the test's own directory."""
    return {"display_announce_english": True, "announcement_cache_dir": cache_dir}


async def phrases_kept(cache_dir: Path) -> int:
    return await asyncio.to_thread(lambda: len(list(cache_dir.glob("*.wav"))))


def duration_of(audio: bytes) -> float:
    with wave.open(io.BytesIO(audio), "rb") as sound:
        assert (sound.getnchannels(), sound.getsampwidth()) == (1, 2)
        return sound.getnframes() / sound.getframerate()


async def test_the_audio_of_a_call_is_a_wav_spoken_once_per_phrase(
    mall: RunningMall, cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mall.clock.now = datetime(2026, 11, 9, 8, 0, tzinfo=WIB)
    taken = await mall.client.post("/queue/tickets", json={"service_code": "nib"})
    number = taken.json()["number"]
    not_yet = await mall.client.get(f"/display/announcements/{number}.wav")
    assert not_yet.status_code == 404
    assert not_yet.headers["content-type"] == "application/problem+json"

    called = await mall.client.post(
        "/queue/services/nib/call", json={"counter": "Loket 3"}, headers=mall.officer("dpmptsp")
    )
    assert called.status_code == 200, called.text

    answer = await mall.client.get(f"/display/announcements/{number}.wav")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "audio/wav"
    assert answer.content[:4] == b"RIFF"
    assert answer.content[8:12] == b"WAVE"
    seconds = duration_of(answer.content)
    assert seconds > 2.0
    with capsys.disabled():
        print(f"\nannouncement of {number} to Loket 3 (Indonesian, then English): {seconds:.2f} s")

    # One file per phrase (Indonesian, English); asking again speaks nothing new and answers the same audio.
    assert await phrases_kept(cache_dir) == 2
    again = await mall.client.get(f"/display/announcements/{number}.wav")
    assert again.content == answer.content
    assert await phrases_kept(cache_dir) == 2


async def test_the_display_page_loads_its_own_script_and_names_each_calls_audio(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 11, 10, 8, 0, tzinfo=WIB)
    taken = await mall.client.post("/queue/tickets", json={"service_code": "nib"})
    await mall.client.post("/queue/services/nib/call", json={"counter": "Loket 3"}, headers=mall.officer("dpmptsp"))

    page = await mall.client.get("/display")

    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "media-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    assert '<script src="/static/display.js" defer></script>' in page.text
    assert f'data-audio="/display/announcements/{taken.json()["number"]}.wav"' in page.text
    assert "Ketuk untuk menyalakan suara" in page.text
    script = await mall.client.get("/static/display.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
