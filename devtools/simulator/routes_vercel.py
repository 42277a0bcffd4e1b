"""Simulated Vercel: project env variables, and production deployments to redeploy.

Every project the simulator is asked about exists and already has one READY production
deployment (built before the simulator started), so there is always something to
redeploy. A redeploy (`deploymentId`) goes QUEUED → BUILDING → `deploy_result` one step per
poll; when it ends READY it serves production (the project's `targets.production`).
Not modelled: builds, files, git, aliases other than production, teams (any `teamId`).
"""

import time

from devtools.simulator.routes import Request, Response, bearer, simulated, vercel_error
from devtools.simulator.state import SimulatorState

CREATED_MS = 1764547200000  # 2025-12-01: when the simulated first deployments were built


def _project(state: SimulatorState, id_or_name: str) -> dict:
    """The project named (or id'd) so, created with its first production deployment."""
    name = id_or_name.removeprefix("prj_")
    project = state.vercel_projects.get(name)
    if project is None:
        first = f"dpl_{name.replace('-', '')[:12]}first"
        state.deployments[first] = {
            "id": first,
            "name": name,
            "project": name,
            "url": f"{name}-first.vercel.app",
            "readyState": "READY",
            "target": "production",
            "created": CREATED_MS,
            "polls": 2,
        }
        project = state.vercel_projects[name] = {
            "id": f"prj_{name}",
            "name": name,
            "production": first,
        }
    return project


def _deployment(dep: dict) -> dict:
    return {k: dep[k] for k in ("id", "name", "url", "readyState", "target", "created")}


def _listed(dep: dict) -> dict:
    return {
        "uid": dep["id"],
        "name": dep["name"],
        "url": dep["url"],
        "readyState": dep["readyState"],
        "state": dep["readyState"],
        "target": dep["target"],
        "created": dep["created"],
    }


@simulated(
    "vercel",
    credentials=bearer("Bearer ", lambda: vercel_error(403, "forbidden", "Not authorized")),
)
def vercel(state: SimulatorState, req: Request) -> Response:
    parts, method = req.path.strip("/").split("/"), req.method
    if parts[1] == "projects":
        project = _project(state, parts[2])
        if len(parts) == 3:
            return Response(200, _project_record(state, project))
        if len(parts) == 4:
            return _env_list(state) if method == "GET" else _env_upsert(state, req)
        return _env_one(state, req, parts[4])
    if parts == ["v7", "deployments"]:
        return _deployments_list(state, req)
    if parts == ["v13", "deployments"]:
        return _redeploy(state, req)
    dep = state.deployments.get(parts[2])  # GET /v13/deployments/{idOrUrl}
    if dep is None:
        return vercel_error(404, "not_found", "Deployment not found")
    if dep["readyState"] not in ("READY", "ERROR", "CANCELED", "BLOCKED"):
        dep["polls"] += 1  # QUEUED → BUILDING → final, one step per poll
        dep["readyState"] = "BUILDING" if dep["polls"] == 1 else state.deploy_result
        if dep["readyState"] == "READY" and dep["target"] == "production":
            _project(state, dep["project"])["production"] = dep["id"]
    return Response(200, _deployment(dep))


def _project_record(state: SimulatorState, project: dict) -> dict:
    current = state.deployments[project["production"]]
    mine = [d for d in state.deployments.values() if d["project"] == project["name"]]
    latest = sorted(mine, key=lambda d: d["created"], reverse=True)[:5]
    return {
        "id": project["id"],
        "name": project["name"],
        "targets": {"production": _deployment(current)},
        "latestDeployments": [_deployment(d) for d in latest],
    }


def _deployments_list(state: SimulatorState, req: Request) -> Response:
    project = _project(state, req.query["projectId"]) if "projectId" in req.query else None
    deps = list(state.deployments.values())
    if project is not None:
        deps = [d for d in deps if d["project"] == project["name"]]
    if "target" in req.query:
        deps = [d for d in deps if d["target"] == req.query["target"]]
    if "state" in req.query:
        deps = [d for d in deps if d["readyState"] in req.query["state"].split(",")]
    deps.sort(key=lambda d: d["created"], reverse=True)
    deps = deps[: int(req.query.get("limit", "20"))]
    return Response(
        200,
        {
            "deployments": [_listed(d) for d in deps],
            "pagination": {"count": len(deps), "next": None, "prev": None},
        },
    )


def _redeploy(state: SimulatorState, req: Request) -> Response:
    """Only redeploys are simulated: a body with `files` or `gitSource` is not a build the
    simulator can make (it answers 400, as Vercel does for files it cannot use)."""
    body = req.body
    if "deploymentId" not in body:
        return vercel_error(400, "bad_request", "The simulator only redeploys (deploymentId)")
    source = state.deployments.get(body["deploymentId"])
    if source is None:
        return vercel_error(404, "not_found", "Deployment not found")
    project = _project(state, body.get("project") or source["project"])
    dep_id = state.next_id("dpl_sim")
    state.deployments[dep_id] = {
        "id": dep_id,
        "name": body["name"],
        "project": project["name"],
        "url": f"{project['name']}-{dep_id[-8:]}.vercel.app",
        "readyState": "QUEUED",
        "target": body.get("target") or None,
        "created": int(time.time() * 1000),
        "source": source["id"],
        "polls": 0,
    }
    return Response(200, _deployment(state.deployments[dep_id]))


# --- environment variables --------------------------------------------------------------


def _public(env: dict) -> dict:
    return {k: v for k, v in env.items() if k != "value"}


def _env_list(state: SimulatorState) -> Response:
    return Response(200, {"envs": [_public(e) for e in state.vercel_env.values()]})


def _env_one(state: SimulatorState, req: Request, env_id: str) -> Response:
    env = state.vercel_env.get(env_id)
    if env is None:
        return vercel_error(404, "not_found", "Environment variable not found")
    if req.method == "DELETE":
        del state.vercel_env[env_id]
        return Response(200, _public(env))
    env.update({k: req.body[k] for k in ("value", "target", "type") if k in req.body})
    return Response(200, _public(env))


def _env_upsert(state: SimulatorState, req: Request) -> Response:
    items = req.body if isinstance(req.body, list) else [req.body]
    created, failed = [], []
    for item in items:
        existing = next((e for e in state.vercel_env.values() if e["key"] == item["key"]), None)
        if existing and req.query.get("upsert") != "true":
            failed.append(
                {
                    "error": {
                        "code": "ENV_ALREADY_EXISTS",
                        "message": "The environment variable already exists",
                        "key": item["key"],
                    }
                }
            )
            continue
        env_id = existing["id"] if existing else state.next_id("env_")
        state.vercel_env[env_id] = {
            "id": env_id,
            "key": item["key"],
            "value": item["value"],
            "type": item["type"],
            "target": item.get("target", []),
        }
        created.append(_public(state.vercel_env[env_id]))
    return Response(201, {"created": created, "failed": failed})
