"""The app config that puts the Django admin on accounts' StaffAdminSite.

In its own module so ``govserve.accounts.apps`` keeps a single AppConfig.
"""

from django.contrib.admin.apps import AdminConfig


class GovserveAdminConfig(AdminConfig):
    """The Django admin, served by :class:`govserve.accounts.admin_site.StaffAdminSite`.

    Listed in INSTALLED_APPS instead of ``django.contrib.admin`` so every
    ``admin.site.register`` in any app lands on the MFA-guarded, audited site.
    """

    default_site = "govserve.accounts.admin_site.StaffAdminSite"
