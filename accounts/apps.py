from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and teams")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from accounts import login_throttle

        user_login_failed.connect(login_throttle.on_login_failed, dispatch_uid="login-throttle")
        user_logged_in.connect(login_throttle.on_logged_in, dispatch_uid="login-throttle")
