"""Vafa kernel: settings, database, security, i18n, SMS transport and the app factory."""
