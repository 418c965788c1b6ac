"""Static files: our own, and only the DSFR `dist/` files the pages use."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

OWN_STATIC = Path(__file__).resolve().parent.parent / "static"
DSFR_USED = (
    "dsfr.min.css",
    "dsfr.module.min.js",
    "dsfr.nomodule.min.js",
    "utility/icons/icons.min.css",
    "utility/icons/",
    "icons/",
    "fonts/",
    "favicon/",
)


def find_dsfr_dist(configured: Path | None) -> Path | None:
    """`dist/` of the npm package `@gouvfr/dsfr`, installed by `npm ci` at the project root."""
    candidates = [configured] if configured else []
    here = Path(__file__).resolve()
    candidates += [p / "node_modules/@gouvfr/dsfr/dist" for p in (Path.cwd(), *here.parents)]
    return next((c for c in candidates if c is not None and (c / "dsfr.min.css").is_file()), None)


def _inside(root: Path, relative: str) -> Path:
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()) or not target.is_file():
        raise HTTPException(404)
    return target


def router(dsfr_dist: Path | None) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/static/dsfr/{path:path}")
    async def dsfr(path: str) -> FileResponse:
        if dsfr_dist is None or not any(
            path == used or (used.endswith("/") and path.startswith(used)) for used in DSFR_USED
        ):
            raise HTTPException(404)
        return FileResponse(_inside(dsfr_dist, path), headers={"Cache-Control": "max-age=86400"})

    @r.get("/static/tocsin/{path:path}")
    async def own(path: str) -> FileResponse:
        return FileResponse(_inside(OWN_STATIC, path), headers={"Cache-Control": "max-age=300"})

    return r
