"""Who may say what on the bus: one NATS user per service, each allowed only the subjects it uses.

The point is that a job's outcome can only come from the worker of its kind: the gateway may
announce jobs (``jobs.<kind>.requested``) but never complete them, and analytics only reads. The
lists below mirror the code, publish by publish and consumer by consumer:

- jobs: ``jobs.<kind>.<type>.<job id>`` (``events.subject_for``); workers (``worker.JobWorker``)
  report progress, completion and failure of their own kinds.
- the gateway's dead-job sweeper fails jobs whose worker died on every delivery
  (``gateway_svc.dead_jobs``), so the gateway may publish ``failed`` but not ``completed`` or
  ``progress``.
- dead letters: ``dlq.<consumer>.<subject>`` on ``<stream>_DLQ`` (``deadletter.park``).
- model deployments: core NATS ``models.deployments.<tenant>``, training to text.
- JetStream's API: ``$JS.API.STREAM.*`` to create or inspect a stream, ``$JS.API.CONSUMER.*`` for
  the service's own durable consumers, ``$JS.ACK.<stream>.<durable>.>`` to acknowledge their
  messages; replies come back on the user's own inbox, ``_INBOX.<user>.>``.

Services that never touch the bus (audio, vision) get no user. ``server_authorization`` turns
the table into the ``authorization`` block of a nats-server configuration (``clipsift up``
writes one with fresh passwords); for a production server
``python -m clipsift_common.nats_permissions --stream CLIPSIFT_JOBS`` prints it with each password
read from the server's environment.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Every job kind, by the service whose worker runs it, with that worker's durable consumer.
WORKER_KINDS: dict[str, dict[str, str]] = {
    "text": {"dedup": "text-dedup", "index": "text-index"},
    "video": {"clip": "video-clip", "video_analysis": "video-analysis", "video_dedup": "video-dedup"},
    "training": {"train": "training-train"},
}
WORKER_OUTCOMES = ("progress", "completed", "failed")
JOB_KINDS: tuple[str, ...] = tuple(kind for kinds in WORKER_KINDS.values() for kind in kinds)
DEPLOYMENTS = "models.deployments"
MAX_DELIVERIES_ADVISORIES = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>"


@dataclass(frozen=True)
class Consumer:
    """A durable consumer a service creates and reads: on the stream ``<jobs stream><suffix>``."""

    durable: str
    filter_subject: str = ""
    stream_suffix: str = ""


@dataclass(frozen=True)
class BusUser:
    name: str
    publish: tuple[str, ...] = ()
    subscribe: tuple[str, ...] = ()
    consumers: tuple[Consumer, ...] = ()
    # Streams (``<jobs stream><suffix>``) the service creates when missing and inspects.
    streams: tuple[str, ...] = ("", "_DLQ")
    # Streams it reads single messages from by sequence.
    reads_messages: tuple[str, ...] = ()
    # Replays a job's events (an ephemeral ordered consumer on the jobs stream).
    replays: bool = False
    # Never allowed, whatever the allow lists say: the rule this table exists for.
    deny_publish: tuple[str, ...] = field(default=())

    @property
    def inbox_prefix(self) -> str:
        return inbox_prefix(self.name)


def inbox_prefix(user: str) -> str:
    return f"_INBOX.{user}"


def _worker(service: str, *, publish: tuple[str, ...] = (), subscribe: tuple[str, ...] = ()) -> BusUser:
    kinds = WORKER_KINDS[service]
    return BusUser(
        name=service,
        publish=(
            *(
                f"jobs.{kind}.{outcome}.*"
                for kind in kinds
                for outcome in ("progress", "completed", "failed")
            ),
            *(f"dlq.{durable}.>" for durable in kinds.values()),
            *publish,
        ),
        subscribe=subscribe,
        consumers=tuple(Consumer(durable, f"jobs.{kind}.requested.>") for kind, durable in kinds.items()),
        deny_publish=("jobs.*.requested.>",),
    )


USERS: dict[str, BusUser] = {
    user.name: user
    for user in (
        BusUser(
            name="gateway",
            publish=(
                *(f"jobs.{kind}.requested.*" for kind in JOB_KINDS),
                *(f"jobs.{kind}.failed.*" for kind in JOB_KINDS),  # the dead-job sweeper's verdict
                "dlq.>",  # parks requests for whichever worker consumer gave up on them
            ),
            subscribe=(MAX_DELIVERIES_ADVISORIES,),
            consumers=(
                Consumer("gateway-jobs", "jobs.>"),
                Consumer("gateway-dead-jobs", stream_suffix="_ADVISORIES"),
            ),
            streams=("", "_DLQ", "_ADVISORIES"),
            reads_messages=("", "_DLQ"),
            replays=True,
            deny_publish=("jobs.*.completed.>", "jobs.*.progress.>"),
        ),
        _worker("text", subscribe=(f"{DEPLOYMENTS}.>",)),
        _worker("video"),
        _worker("training", publish=(f"{DEPLOYMENTS}.*",)),
        BusUser(
            name="analytics",
            publish=("dlq.analytics-events.>",),
            consumers=(Consumer("analytics-events", "jobs.>"),),
            deny_publish=("jobs.>",),
        ),
    )
}


def permissions(user: BusUser, stream: str) -> dict[str, Any]:
    """The nats-server ``permissions`` of ``user`` on the jobs stream ``stream``."""
    api = "$JS.API"
    publish = list(user.publish)
    for suffix in user.streams:
        publish += [f"{api}.STREAM.INFO.{stream}{suffix}", f"{api}.STREAM.CREATE.{stream}{suffix}"]
    publish += [f"{api}.STREAM.MSG.GET.{stream}{suffix}" for suffix in user.reads_messages]
    for consumer in user.consumers:
        name = f"{stream}{consumer.stream_suffix}.{consumer.durable}"
        # The filter is part of the create subject, so a service cannot widen its own consumer.
        create = f"{api}.CONSUMER.CREATE.{name}"
        if consumer.filter_subject:
            publish.append(f"{create}.{consumer.filter_subject}")
        else:  # also the older API nats-py uses for an unnamed durable
            publish += [create, f"{api}.CONSUMER.DURABLE.CREATE.{name}"]
        publish += [
            f"{api}.CONSUMER.INFO.{name}",
            f"{api}.CONSUMER.MSG.NEXT.{name}",
            f"$JS.ACK.{name}.>",
        ]
    if user.replays:
        # Ordered consumers are ephemeral (server-named) and flow-controlled.
        publish += [f"{api}.CONSUMER.CREATE.{stream}", f"$JS.FC.{stream}.>"]
    result: dict[str, Any] = {
        "publish": {"allow": publish},
        "subscribe": {"allow": [f"{user.inbox_prefix}.>", *user.subscribe]},
    }
    if user.deny_publish:
        result["publish"]["deny"] = list(user.deny_publish)
    return result


def server_authorization(passwords: Mapping[str, str], stream: str) -> dict[str, Any]:
    """The ``authorization`` block of a nats-server configuration: one user per entry of
    ``passwords`` (user name -> password), each with its permissions on ``stream``."""
    unknown = sorted(set(passwords) - set(USERS))
    if unknown:
        raise ValueError(f"no bus permissions are defined for {', '.join(unknown)}")
    return {
        "users": [
            {"user": name, "password": password, "permissions": permissions(USERS[name], stream)}
            for name, password in passwords.items()
        ]
    }


def password_variable(user: str) -> str:
    return f"CLIPSIFT_NATS_{user.upper()}_PASSWORD"


def authorization_conf(stream: str) -> str:
    """The ``authorization`` block for a production nats-server configuration, every user's
    password read by the server from its environment (``$CLIPSIFT_NATS_<USER>_PASSWORD``, e.g.
    from the same Secret the chart's ``nats.auth.existingSecret`` names)."""
    block = server_authorization({user: f"${password_variable(user)}" for user in USERS}, stream)
    text = json.dumps(block, indent=2)
    # A quoted "$NAME" is a literal; unquoted, nats-server substitutes the environment variable.
    text = re.sub(r'"(\$CLIPSIFT_NATS_[A-Z_]+_PASSWORD)"', r"\1", text)
    header = f"# Generated by python -m clipsift_common.nats_permissions --stream {stream}"
    return f"{header}\nauthorization: {text}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="print the nats-server authorization block of clipsift")
    parser.add_argument("--stream", default="CLIPSIFT_JOBS", help="the jobs stream (NATS_STREAM setting)")
    print(authorization_conf(parser.parse_args().stream), end="")


if __name__ == "__main__":
    main()
