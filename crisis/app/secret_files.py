"""Secrets come from the environment or from files only the service may read.

Every secret setting has a `_FILE` twin naming a file that holds it (`TOCSIN_SECRET_KEY_FILE`,
`TOCSIN_CHANNELS__SMTP__PASSWORD_FILE`, …), as container secrets are handed over. A secret
file, the checkpoint signing key (`TOCSIN_CHECKPOINT_KEY_FILE`) and a `TOCSIN_CONFIG` file that
holds a secret are refused when anyone but their owner may read or write them.
"""

from __future__ import annotations

import os
import stat
import types
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
from sqlalchemy.engine import make_url

from crisis.app.logs import register_secret

ENV_PREFIX = "TOCSIN_"
# Settings that are not SecretStr but may carry a password (postgresql://user:password@…).
SECRET_STRINGS = (("database_url",),)
# Secrets with a file setting of their own, read where they are used.
OWN_FILE_SETTING = (("checkpoint_key",),)

SettingPath = tuple[str, ...]


class SecretFileError(Exception):
    """A secret file that is missing, unreadable or readable by others: the service stops."""

    def __init__(self, path: Path, reason: str, *, variable: str | None = None) -> None:
        named = f" ({variable})" if variable else ""
        super().__init__(f"Erreur : fichier secret {path}{named} : {reason}.")
        self.path = path
        self.reason = reason


def check_private(path: Path) -> None:
    """Refuses a file that is not a regular file its owner alone may read and write."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise SecretFileError(path, "introuvable") from None
    except OSError as error:
        raise SecretFileError(path, f"illisible ({error.strerror})") from None
    if not stat.S_ISREG(mode):
        raise SecretFileError(path, "ce n'est pas un fichier")
    if mode & 0o077:
        raise SecretFileError(
            path,
            f"accessible à d'autres comptes que le service (droits {stat.filemode(mode)}) ; "
            f"réservez-le au compte du service : chmod 600 {path}",
        )


def read_secret(path: Path) -> str:
    check_private(path)
    try:
        return path.read_text("utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as error:
        raise SecretFileError(path, f"illisible ({error})") from None


def secret_paths(model: type[BaseModel], prefix: SettingPath = ()) -> Iterator[SettingPath]:
    """Every secret setting of `model`, nested models included, as a path of field names."""
    if not prefix:
        yield from SECRET_STRINGS
    for name, field in model.model_fields.items():
        for kind in _kinds(field):
            if kind is SecretStr and (*prefix, name) not in OWN_FILE_SETTING:
                yield (*prefix, name)
            elif isinstance(kind, type) and issubclass(kind, BaseModel):
                yield from secret_paths(kind, (*prefix, name))


def _kinds(field: FieldInfo) -> tuple[Any, ...]:
    annotation = field.annotation
    if get_origin(annotation) in (Union, types.UnionType):
        return get_args(annotation)
    return (annotation,)


def file_variable(path: SettingPath) -> str:
    return ENV_PREFIX + "__".join(path).upper() + "_FILE"


class SecretFilesSource(PydanticBaseSettingsSource):
    """The `_FILE` twins: each names a file whose content is the setting's value."""

    def __init__(
        self, settings_cls: type[BaseSettings], environ: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(settings_cls)
        self._environ = os.environ if environ is None else environ

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # everything is done in __call__

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for path in secret_paths(self.settings_cls):
            named = self._environ.get(file_variable(path))
            if not named:
                continue
            level = values
            for part in path[:-1]:
                level = level.setdefault(part, {})
            try:
                level[path[-1]] = read_secret(Path(named))
            except SecretFileError as error:
                raise SecretFileError(
                    error.path, error.reason, variable=file_variable(path)
                ) from None
        return values


def without_file_twins(
    env_vars: Mapping[str, str | None], settings_cls: type[BaseModel]
) -> dict[str, str | None]:
    """The environment less the `_FILE` twins, which the plain environment source would take
    for unknown nested fields."""
    twins = {file_variable(path).lower() for path in secret_paths(settings_cls)}
    return {name: value for name, value in env_vars.items() if name.lower() not in twins}


def configured_secrets(settings: BaseModel) -> Iterator[str]:
    """Every secret value the settings hold (a database URL gives its password only)."""
    for path in (*secret_paths(type(settings)), *OWN_FILE_SETTING):
        value: Any = settings
        for part in path:
            value = getattr(value, part, None)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if path in SECRET_STRINGS and isinstance(value, str):
            value = make_url(value).password
        if isinstance(value, str) and value:
            yield value


def holds_secret(data: Mapping[str, Any], model: type[BaseModel]) -> bool:
    """Whether a configuration file's data sets any secret (then the file must be private)."""
    for path in (*secret_paths(model), *OWN_FILE_SETTING):
        level: Any = data
        for part in path:
            level = level.get(part) if isinstance(level, Mapping) else None
        if level:
            return True
    return False


def register_settings_secrets(settings: BaseModel) -> None:
    """Every configured secret is masked wherever it would appear in a log line."""
    for value in configured_secrets(settings):
        register_secret(value)
