"""Staff API: who the caller is (`GET /api/me`)."""

from ninja import Router, Schema

from staff.api_errors import errors

router = Router(tags=["staff"])


class Me(Schema):
    username: str
    roles: list[str]
    permissions: list[str]


@router.get("/me", response={200: Me, **errors()}, url_name="me")
def me(request):
    """Who the caller is to the JSON API (session or staff token) and what they may do."""
    user = request.user
    return {
        "username": user.get_username(),
        "roles": sorted(user.groups.values_list("name", flat=True)),
        "permissions": sorted(user.get_all_permissions()),
    }
