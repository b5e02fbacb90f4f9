"""The now-calling display's voice: each call's phrases (:mod:`satupintu.mall.spoken`) spoken by Debian's
``espeak-ng`` (voice ``id``, and ``en`` where set) into one WAV. The synthesizer runs as an asyncio subprocess with a
timeout, so the event loop never waits on it; each phrase's audio is kept on disk under the hash of its voice and
words, and the oldest files are removed past a bound."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import uuid
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import structlog

from satupintu.mall.spoken import Announcement

logger = structlog.get_logger(__name__)

VOICES: Final = {"id": "id", "en": "en"}
"""espeak-ng's voice for each language of the display."""
PAUSE_SECONDS: Final = 0.6
"""Silence between the Indonesian and the English phrase."""
_CACHE_VERSION: Final = "1"
"""Part of every cache key: a change in how phrases are spoken (speed, voice options) starts a fresh cache."""


class AnnouncementUnavailable(Exception):
    """The synthesizer is missing, failed or took too long: the display shows the call without sound."""


@dataclass(frozen=True)
class AnnouncerSettings:
    """Where and how the display's voice is made."""

    cache_dir: Path
    cache_entries: int = 200
    timeout_seconds: float = 10.0
    words_per_minute: int = 150
    binary: str = "espeak-ng"


class Announcer:
    """Speaks announcements into WAV audio, each phrase synthesized once and kept on disk."""

    def __init__(self, settings: AnnouncerSettings) -> None:
        self._settings = settings
        self._locks: dict[str, asyncio.Lock] = {}

    async def wav(self, announcements: Sequence[Announcement]) -> bytes:
        """The announcements one after the other, with a short pause between, as one WAV file."""
        paths = [await self._phrase(announcement) for announcement in announcements]
        return await asyncio.to_thread(_join, paths, PAUSE_SECONDS)

    def _key(self, voice: str, words: str) -> str:
        phrase = f"{_CACHE_VERSION}\n{voice}\n{self._settings.words_per_minute}\n{words}"
        return hashlib.sha256(phrase.encode("utf-8")).hexdigest()

    async def _phrase(self, announcement: Announcement) -> Path:
        """The cached audio of one phrase, synthesized first if it is not on disk yet (once, however many ask)."""
        voice = VOICES[announcement.language]
        key = self._key(voice, announcement.spoken)
        path = self._settings.cache_dir / f"{key}.wav"
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if not await asyncio.to_thread(path.exists):
                await self._synthesize(voice, announcement.spoken, path)
                await asyncio.to_thread(_trim, self._settings.cache_dir, self._settings.cache_entries, path)
        self._locks.pop(key, None)
        return path

    async def _synthesize(self, voice: str, words: str, path: Path) -> None:
        settings = self._settings
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.stem}.{uuid.uuid4().hex}.part")
        try:
            process = await asyncio.create_subprocess_exec(
                settings.binary,
                "-v",
                voice,
                "-s",
                str(settings.words_per_minute),
                "-w",
                str(partial),
                "--stdin",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as missing:
            raise AnnouncementUnavailable(f"cannot run {settings.binary}: {missing}") from missing
        try:
            _, errors = await asyncio.wait_for(
                process.communicate(words.encode("utf-8")), timeout=settings.timeout_seconds
            )
        except TimeoutError as slow:
            process.kill()
            await process.wait()
            partial.unlink(missing_ok=True)
            raise AnnouncementUnavailable(f"{settings.binary} took longer than {settings.timeout_seconds}s") from slow
        if process.returncode != 0 or not partial.exists():
            partial.unlink(missing_ok=True)
            message = errors.decode("utf-8", "replace").strip()
            raise AnnouncementUnavailable(f"{settings.binary} failed ({process.returncode}): {message}")
        os.replace(partial, path)
        logger.info("announcement synthesized", voice=voice, words=words)


def _join(paths: Sequence[Path], pause_seconds: float) -> bytes:
    """The WAV files (one format: espeak-ng's) as one, with ``pause_seconds`` of silence between."""
    output = io.BytesIO()
    with wave.open(output, "wb") as joined:
        for index, path in enumerate(paths):
            with wave.open(str(path), "rb") as part:
                if index == 0:
                    joined.setparams(part.getparams())
                else:
                    silence = int(part.getframerate() * pause_seconds)
                    joined.writeframes(b"\0" * silence * part.getsampwidth() * part.getnchannels())
                joined.writeframes(part.readframes(part.getnframes()))
    return output.getvalue()


def _trim(cache_dir: Path, entries: int, keep: Path) -> None:
    """Remove the least recently written phrases past ``entries`` (never ``keep``, just made)."""
    written: list[tuple[float, Path]] = []
    for file in cache_dir.glob("*.wav"):
        try:
            written.append((file.stat().st_mtime, file))
        except FileNotFoundError:  # another request trimmed it meanwhile
            continue
    written.sort()
    for _, file in written[: max(0, len(written) - entries)]:
        if file != keep:
            file.unlink(missing_ok=True)
