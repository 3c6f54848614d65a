"""What handlers may ask for by name besides `db: DB`: `settings: AppSettings`."""

from litestar.di import NamedDependency

from vafa.settings import Settings

AppSettings = NamedDependency[Settings]
