"""The four roles as Django groups with real permissions (ARCHITECTURE.md, "Roles").

Permissions named here that no installed model defines yet are skipped; the
groups are re-synced after every `migrate`, so a later app's permissions join
its roles as soon as its migration runs.
"""

from django.apps import apps as global_apps

READ_OPERATIONAL = [
    "vouchers.view_station",
    "vouchers.view_voucher",
    "vouchers.view_voucherevent",
    "vouchers.view_redeemattempt",
    "vouchers.preview_voucher",
    "campaigns.view_campaign",
    "campaigns.view_target",
    "campaigns.view_sendresult",
    "campaigns.export_targets",
    "integrations.view_proberesult",
    "incidents.view_incident",
    "incidents.view_incidentstep",
    "incidents.view_timelineentry",
    "incidents.view_incidentpage",
    "incidents.view_pagerdutywebhookevent",
    "incidents.view_webhookrefusal",
    "rotation.view_rotationrun",
]

SUPPORT = READ_OPERATIONAL + [
    "integrations.run_probe",
    "incidents.add_incident",
    "incidents.add_incidentnote",
    "incidents.run_safe_step",
]

OPS = SUPPORT + [
    "vouchers.operate_voucher",
    "campaigns.control_campaign",
    "campaigns.add_campaign",
    "campaigns.change_campaign",
    "campaigns.add_target",
    "campaigns.send_test_message",
    "incidents.change_incident",
    "incidents.run_operational_step",
    "incidents.request_risky_step",
    "audit.view_auditentry",
]

ADMIN = OPS + [
    "incidents.approve_risky_step",
    "rotation.view_supabaseproject",
    "rotation.add_supabaseproject",
    "rotation.change_supabaseproject",
    "vouchers.add_station",
    "vouchers.change_station",
    "vouchers.add_voucher",
    "auth.view_user",
    "auth.add_user",
    "auth.change_user",
    "auth.view_group",
    "staff.view_apitoken",
    "staff.change_apitoken",
    # The admin role itself: one admin requests it for an account, another approves.
    "staff.view_rolerequest",
    "staff.grant_admin_role",
    "audit.verify_auditlog",
]

AUDITOR = READ_OPERATIONAL + [
    "audit.view_auditentry",
    "audit.export_auditentry",
    "audit.verify_auditlog",
    "incidents.export_postmortem",
]

ADMIN_ROLE = "admin"

ROLES: dict[str, list[str]] = {
    "support": SUPPORT,
    "ops": OPS,
    "admin": ADMIN,
    "auditor": AUDITOR,
}


def sync_roles(apps=global_apps) -> None:
    """Make each role group hold exactly the permissions listed for it."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    wanted = {tuple(p.split(".", 1)) for perms in ROLES.values() for p in perms}
    by_name = {
        (app_label, codename): pk
        for pk, app_label, codename in Permission.objects.filter(
            codename__in=[c for _, c in wanted]
        ).values_list("pk", "content_type__app_label", "codename")
    }
    for role, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        ids = [by_name[key] for key in (tuple(p.split(".", 1)) for p in perms) if key in by_name]
        group.permissions.set(ids)


def sync_roles_after_migrate(sender, **kwargs) -> None:
    # post_migrate fires once per app with a models module, in order; permissions of every
    # app exist by the last of those (an app without models, e.g. devtools, gets no signal).
    with_models = [c for c in global_apps.get_app_configs() if c.models_module is not None]
    if sender.name == with_models[-1].name:
        sync_roles()
