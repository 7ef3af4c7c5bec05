"""Extension singletons, created once and bound to the app in create_app."""

from __future__ import annotations

import os

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from huey import RedisHuey, SqliteHuey
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from campaign.config import instance_path

# Named constraints so Alembic can alter them on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address)


def _make_huey():
    # Huey has no init_app: the queue is chosen from the environment at import,
    # so the web app and `campaign worker` always agree on it.
    if url := os.environ.get("REDIS_URL"):
        return RedisHuey("campaign", url=url)
    path = instance_path()
    path.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("campaign", filename=str(path / "tasks.sqlite3"))


huey = _make_huey()
