"""Baseline C: the smallest FastAPI endpoint that validates a small pydantic body and inserts one row with asyncpg.

Run with ``uvicorn bench.baselines.minimal_endpoint:app``; ``BASELINE_DATABASE_URL`` names its database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI
from pydantic import BaseModel, Field


class Submission(BaseModel):
    """A small body, about the size of an application's applicant block."""

    service_code: str = Field(max_length=32)
    nik: str = Field(pattern=r"^[0-9]{16}$")
    name: str = Field(min_length=1, max_length=120)
    email: str | None = Field(default=None, max_length=254)
    language: str = Field(pattern=r"^(id|en)$")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    pool = await asyncpg.create_pool(os.environ["BASELINE_DATABASE_URL"], min_size=10, max_size=10)
    await pool.execute(
        "CREATE TABLE IF NOT EXISTS submissions (id uuid PRIMARY KEY, service_code text, nik text, name text,"
        " email text, language text, created_at timestamptz DEFAULT now())"
    )
    app.state.pool = pool
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


@app.post("/submissions", status_code=202)
async def submit(body: Submission) -> dict[str, str]:
    submission_id = uuid.uuid4()
    await app.state.pool.execute(
        "INSERT INTO submissions (id, service_code, nik, name, email, language) VALUES ($1, $2, $3, $4, $5, $6)",
        submission_id,
        body.service_code,
        body.nik,
        body.name,
        body.email,
        body.language,
    )
    return {"id": str(submission_id)}
