"""The campaign admin's own pages (wired by CampaignAdmin.get_urls): the progress panel
fragment, the targets upload and the test send. Thin: a permission check, one service, the
outcome as a message on the page."""

import base64

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from campaigns import services
from campaigns.controls import BUTTONS, campaign_controls
from campaigns.errors import CampaignError
from campaigns.imports import UploadRefused, targets_import
from campaigns.models import Campaign
from campaigns.progress import campaigns_progress


def panel_context(campaign: Campaign, user) -> dict:
    """The progress panel's context: the progress row, the controls this person may use now,
    and whether the state has controls this person's role lacks (the page says so)."""
    row = campaigns_progress([campaign])[0]
    controls = campaign_controls(state=campaign.state, actor=user)
    applicable = campaign_controls(state=campaign.state, actor=None)
    row["controls"] = controls
    row["buttons"] = [controls[k] for k in BUTTONS if k in controls]
    row["ops_channel"] = settings.SLACK_OPS_CHANNEL
    row["missing_buttons"] = [
        c.label for k, c in applicable.items() if k in BUTTONS and k not in controls
    ]
    return row


def progress_view(request, campaign_id: int):
    """The progress panel alone: the page re-fetches it while the campaign runs."""
    if not request.user.has_perm("campaigns.view_campaign"):
        raise PermissionDenied("campaigns.view_campaign")
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    return TemplateResponse(
        request, "campaigns/campaign_panel.html", {"panel": panel_context(campaign, request.user)}
    )


def upload_view(request, campaign_id: int):
    if not request.user.has_perm("campaigns.add_target"):
        raise PermissionDenied("campaigns.add_target")  # the 403 page names it
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    context = {
        **admin.site.each_context(request),
        "opts": Campaign._meta,
        "original": campaign,
        "title": f"Upload targets: {campaign}",
        "region": request.POST.get("region") or settings.CAMPAIGN_DEFAULT_REGION,
    }
    if request.method == "POST":
        upload = request.FILES.get("file")
        region = (request.POST.get("region") or settings.CAMPAIGN_DEFAULT_REGION)[:2]
        if upload is None:
            messages.error(request, "Choose a CSV file.")
            return TemplateResponse(request, "campaigns/upload.html", context)
        try:
            result = targets_import(
                campaign_id=campaign_id, data=upload, region=region, actor=request.user
            )
        except UploadRefused as exc:
            # The file itself is unusable (binary, empty, too large, no phone column…):
            # said on the upload page, nothing saved.
            messages.error(request, exc.detail)
            return TemplateResponse(request, "campaigns/upload.html", context)
        except CampaignError as exc:
            messages.error(request, f"{exc.code}: {exc.detail}")
            return HttpResponseRedirect(_change_url(campaign_id))
        if result.ok:
            messages.success(
                request,
                f"{result.created} targets added, {result.unchanged} already present.",
            )
            return HttpResponseRedirect(_change_url(campaign_id))
        report = base64.b64encode(result.report_csv().encode()).decode()
        context.update(
            {
                "errors": result.errors[:200],
                "error_count": len(result.errors),
                "report_href": f"data:text/csv;base64,{report}",
            }
        )
    return TemplateResponse(request, "campaigns/upload.html", context)


def send_test_view(request, campaign_id: int):
    if not request.user.has_perm("campaigns.send_test_message"):
        raise PermissionDenied("campaigns.send_test_message")
    if request.method == "POST":
        try:
            message_id = services.campaign_send_test(
                campaign_id=campaign_id,
                phone=request.POST.get("phone", ""),
                actor=request.user,
            )
            messages.success(request, f"Test message sent ({message_id}).")
        except CampaignError as exc:
            # The runbook's toast: `send_failed` with the provider's error code.
            messages.error(
                request, f"Test message failed — {exc.code}: {exc.detail}", extra_tags="toast"
            )
    return HttpResponseRedirect(_change_url(campaign_id))


def _change_url(campaign_id: int) -> str:
    return reverse("admin:campaigns_campaign_change", args=[campaign_id])
