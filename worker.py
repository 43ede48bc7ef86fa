"""The Temporal worker: every workflow and activity of Caseflow, and the clients they use.

This is the only place that builds activity clients (database, rule book); tests build
the same worker with their own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError
from temporalio.worker import Worker

from activities.customers import CustomerActivities
from activities.deals import DealActivities
from activities.imports import ImportActivities
from activities.mailboxes import MailboxActivities
from activities.notifications import NoticePoster, NotificationActivities
from activities.offer_triggers import OfferTriggerActivities
from activities.requests import RequestActivities
from activities.tickets import TicketActivities
from caseflow.customers import segments
from caseflow.customers import survivorship as survivorship_rules
from caseflow.customers.segments import Catalogue
from caseflow.customers.survivorship import Survivorship
from caseflow.deals import pipelines as pipelines_module
from caseflow.deals.pipelines import PipelineTerms
from caseflow.mail import mailboxes
from caseflow.mail.mailbox_terms import MailboxStart, MailboxTerms
from caseflow.mail.smtp import SmtpConfig
from caseflow.mail.templates import MailTemplates
from caseflow.people.store import team_codes
from caseflow.platform.db import make_engine, make_sessionmaker
from caseflow.platform.settings import Settings, get_settings
from caseflow.platform.temporal import connect_patiently
from caseflow.platform.workers import heartbeat
from caseflow.requests.topics import TopicBook
from caseflow.requests.topics import load as load_topics
from caseflow.routing.rulebook import RuleHolder
from caseflow.sla.policies import SlaBook
from caseflow.sla.policies import load as load_sla
from caseflow.tickets.connectors import PollInput, Ticketing
from caseflow.tickets.connectors import load as load_ticketing
from workflows.absence import AbsenceWorkflow
from workflows.customer_import import CustomerImportWorkflow
from workflows.customer_merge import CustomerMergeWorkflow
from workflows.deal import DealWorkflow
from workflows.mailbox_poller import MailboxPollerWorkflow
from workflows.notifier import NotifierWorkflow, ResendWorkflow
from workflows.offer_trigger import OfferTriggerWorkflow
from workflows.request import RequestWorkflow
from workflows.sandbox import compile_workflows, runner
from workflows.ticket_poller import PollerStart, TicketPollerWorkflow

log = logging.getLogger("caseflow.worker")

WORKFLOWS = [
    RequestWorkflow,
    AbsenceWorkflow,
    NotifierWorkflow,
    ResendWorkflow,
    DealWorkflow,
    TicketPollerWorkflow,
    CustomerMergeWorkflow,
    CustomerImportWorkflow,
    OfferTriggerWorkflow,
    MailboxPollerWorkflow,
]


@dataclass(frozen=True)
class Mail:
    """What e-mailing needs: templates, the SMTP relay, topic importance, the digest window."""

    templates: MailTemplates
    smtp: SmtpConfig
    topics: TopicBook
    digest_window: timedelta
    default_locale: str = "ru"
    give_up_after: timedelta = timedelta(days=2)

    @classmethod
    def of(cls, settings: Settings) -> Mail:
        return cls(
            MailTemplates(settings.email_templates_dir),
            SmtpConfig.of(settings),
            load_topics(settings.routing_rules_dir / "topics" / "topics.yaml"),
            settings.digest_window,
            settings.default_locale,
            settings.mail_give_up_after,
        )


def build_worker(
    client: Client,
    *,
    task_queue: str,
    sessions: async_sessionmaker[AsyncSession],
    rules: RuleHolder,
    sla: SlaBook | None = None,
    mail: Mail | None = None,
    pipelines: dict[str, PipelineTerms] | None = None,
    ticketing: Ticketing | None = None,
    max_cached_workflows: int = 1000,
    survivorship: Survivorship | None = None,
    catalogue: Catalogue | None = None,
    sandbox_every_run: bool = True,
) -> Worker:
    """Without `mail`, nobody is e-mailed (workflow tests that do not look at e-mail).
    `sandbox_every_run`: every workflow run in the sandbox (the tests' workers); else the
    sandbox checks each workflow once, here, and runs execute natively."""
    compile_workflows()
    poster = (
        NoticePoster(client, task_queue, mail.digest_window, mail.give_up_after) if mail else None
    )
    requests = RequestActivities(
        sessions, rules, sla, poster=poster, topics=mail.topics if mail else None
    )
    activities: list[Callable[..., Any]] = [
        requests.register_request,
        requests.assign_request,
        requests.record_request_event,
        requests.record_sla_ledger,
        requests.record_step,
        requests.unstarted_requests,
        requests.sla_terms,
    ]
    deals = DealActivities(sessions, pipelines or {}, poster)
    activities += [deals.register_deal, deals.project_deal]
    profile_rules = survivorship or survivorship_rules.DEFAULT
    customers = CustomerActivities(sessions, profile_rules)
    activities.append(ImportActivities(sessions, profile_rules).import_batch)
    activities.append(OfferTriggerActivities(sessions, catalogue or Catalogue()).decide_offer)
    activities.append(MailboxActivities(sessions).read_mailbox)
    activities += [
        customers.begin_merge,
        customers.move_merged,
        customers.finish_merge,
        customers.undo_merge,
    ]
    tickets = TicketActivities(sessions, ticketing or Ticketing([]))
    activities += [
        tickets.open_ticket,
        tickets.post_to_ticket,
        tickets.fetch_articles,
        tickets.poll_tickets,
        tickets.mark_signalled,
    ]
    if mail is not None:
        notifications = NotificationActivities(
            sessions, mail.templates, mail.smtp, mail.topics, mail.default_locale
        )
        activities += [
            notifications.send_notification,
            notifications.notification_failed,
            notifications.resend_notification,
            notifications.resend_failed,
        ]
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        workflow_runner=runner(every_run=sandbox_every_run),
        max_cached_workflows=max_cached_workflows,
        activities=activities,
    )


async def start_pollers(client: Client, task_queue: str, ticketing: Ticketing) -> list[str]:
    """One poller per connector that is polled (Request Tracker); an existing one is kept."""
    started = []
    for config in ticketing.connectors.values():
        if config.kind != "request_tracker" or config.poll_every is None:
            continue
        workflow_id = f"ticket-poller-{config.name}"
        await client.start_workflow(
            TicketPollerWorkflow.run,
            PollerStart(cursor=PollInput(connector=config.name), every=config.poll_every),
            id=workflow_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        started.append(workflow_id)
    return started


async def read_mailboxes(
    client: Client, task_queue: str, boxes: Sequence[MailboxTerms]
) -> list[str]:
    """One poller per configured mailbox, told the mailbox as configured now (one
    signal-with-start: a running poller is signalled, a missing one started with it); the
    poller of a mailbox no longer configured is stopped (its mail stays on the server)."""
    started = []
    for box in boxes:
        handle = await client.start_workflow(
            MailboxPollerWorkflow.run,
            MailboxStart(box=box),
            id=f"mailbox-{box.name}",
            task_queue=task_queue,
            start_signal="configure",
            start_signal_args=[box],
        )
        started.append(handle.id)
    running = client.list_workflows(
        "WorkflowType = 'MailboxPollerWorkflow' AND ExecutionStatus = 'Running'"
    )
    try:
        async for execution in running:
            if execution.id not in started:
                handle = client.get_workflow_handle(execution.id)
                await handle.terminate("mailbox no longer configured")
                log.info("mailbox poller %s stopped: not in mailboxes.yaml", execution.id)
    except RPCError as exc:  # a server whose visibility cannot be asked so: the worker runs on
        log.warning("could not look for pollers of removed mailboxes: %s", exc)
    return started


def load_pipelines(settings: Settings, sla: SlaBook | None) -> dict[str, PipelineTerms]:
    """The sales pipelines beside the rules; their due offsets use the SLA calendars."""
    directory = settings.routing_rules_dir / "pipelines"
    if sla is None or not directory.is_dir():
        return {}
    return pipelines_module.load(directory, sla)


async def run(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    rules = RuleHolder(settings.routing_rules_dir)  # a bad file stops start-up here
    sla_dir = settings.routing_rules_dir / "sla"
    sla = load_sla(sla_dir) if sla_dir.is_dir() else None  # a bad SLA policy stops it too
    engine = make_engine(settings.database_url)
    async with make_sessionmaker(engine)() as session:
        rules.reload(known_queues=await team_codes(session))  # and a queue nobody staffs
    ticketing = load_ticketing(settings.ticketing_file)  # a bad connector stops start-up
    boxes = mailboxes.load(settings.routing_rules_dir / "mail" / "mailboxes.yaml")  # and a box
    client = await connect_patiently(settings)  # Temporal may still be starting: wait for it
    worker = build_worker(
        client,
        task_queue=settings.task_queue,
        sessions=make_sessionmaker(engine),
        rules=rules,
        sla=sla,
        mail=Mail.of(settings) if settings.notifications else None,
        pipelines=load_pipelines(settings, sla),
        ticketing=ticketing,
        survivorship=survivorship_rules.load(
            settings.routing_rules_dir / "profile" / "survivorship.yaml"
        ),
        catalogue=segments.load(settings.routing_rules_dir / "profile"),
        max_cached_workflows=settings.worker_cached_workflows,
        sandbox_every_run=settings.workflow_sandbox == "every-run",
    )
    await start_pollers(client, settings.task_queue, ticketing)
    await read_mailboxes(client, settings.task_queue, boxes)
    log.info(
        "worker started",
        extra={"task_queue": settings.task_queue, "rules": len(rules.current.rules)},
    )
    alive = asyncio.create_task(
        heartbeat(
            make_sessionmaker(engine),
            worker,
            settings.task_queue,
            file=settings.worker_health_file,
        )
    )
    try:
        await worker.run()
    finally:
        alive.cancel()
        await asyncio.gather(alive, return_exceptions=True)
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(run())
