"""Local paths and URLs for dataset files, with a download cache."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from mfdisco.core import MfdiscoError

__all__ = ["is_url", "resolve_source", "DownloadError"]

logger = logging.getLogger(__name__)


class DownloadError(MfdiscoError):
    """A URL could not be fetched."""


def is_url(source: str | Path) -> bool:
    """True for ``http://``, ``https://`` and ``file://`` addresses."""
    return urllib.parse.urlparse(str(source)).scheme in {"http", "https", "file"}


def resolve_source(source: str | Path, cache_dir: Path, timeout_s: float = 60.0) -> Path:
    """Return a local path for ``source``, downloading a URL once into ``cache_dir``.

    The cached file is named by the SHA-256 of the URL plus its base name, written to a
    temporary file first and renamed, so an interrupted download never leaves a
    truncated cache entry. A second call with the same URL reads the cache.

    Raises:
        FileNotFoundError: a local path that does not exist.
        DownloadError: a URL that cannot be fetched, naming the URL and the reason.
    """
    text = str(source)
    if not is_url(text):
        path = Path(text).expanduser()
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or directory")
        return path
    parsed = urllib.parse.urlparse(text)
    if parsed.scheme == "file":
        return resolve_source(urllib.parse.unquote(parsed.path), cache_dir)
    base = Path(parsed.path).name or "download"
    target = cache_dir / f"{hashlib.sha256(text.encode()).hexdigest()[:16]}-{base}"
    if target.is_file():
        logger.info("using cached %s for %s", target, text)
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    logger.info("downloading %s to %s", text, target)
    handle, partial = tempfile.mkstemp(dir=cache_dir, prefix=".partial-")
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(text, timeout=timeout_s) as response:  # noqa: S310
            shutil.copyfileobj(response, out)
        os.replace(partial, target)
    except (urllib.error.URLError, OSError, ValueError) as error:
        Path(partial).unlink(missing_ok=True)
        raise DownloadError(f"{text}: download failed ({error})") from None
    return target
