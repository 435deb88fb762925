"""Reads over commitments and contracts: which ones need attention soon."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from finops_exec.personas import person_name
from portfolio.models import Commitment
from scopes.models import Scope

logger = logging.getLogger(__name__)

# Commitments that can still renew or be renegotiated.
LIVE_STATUSES = (Commitment.Status.PLANNED, Commitment.Status.ACTIVE, Commitment.Status.RENEWING)


@dataclass(frozen=True)
class Renewal:
    """A commitment whose notice date or renewal date falls in the window asked for.

    ``deadline`` is the first of the two dates still ahead, and ``deadline_kind`` says which it
    is (``notice`` or ``renewal``): once the notice date has passed, the renewal is what is left.
    ``total_amount`` is what the current term obliges, in ``currency``.
    """

    id: int
    name: str
    provider_name: str
    scope: str
    owner: str
    currency: str
    total_amount: Decimal
    notice_date: datetime.date | None
    renewal_date: datetime.date | None
    auto_renews: bool
    deadline: datetime.date
    deadline_kind: str
    days_to_deadline: int


def commitments_renewing(
    *, within_days: int, today: datetime.date, scope: Scope | None = None
) -> list[Renewal]:
    """Live commitments with a notice date or a renewal date from ``today`` to ``within_days``
    days after it (both ends included), the nearest deadline first.

    Expired and cancelled commitments are left out. ``scope`` keeps the commitments that scope
    is responsible for.
    """
    last = today + datetime.timedelta(days=within_days)
    commitments = (
        Commitment.objects.filter(status__in=LIVE_STATUSES)
        .filter(Q(notice_date__range=(today, last)) | Q(renewal_date__range=(today, last)))
        .select_related("owner", "scope")
    )
    if scope is not None:
        commitments = commitments.filter(scope=scope)
    renewals = [_renewal(commitment, today=today) for commitment in commitments]
    return sorted(renewals, key=lambda r: (r.deadline, r.name))


def _renewal(commitment: Commitment, *, today: datetime.date) -> Renewal:
    notice, renewal = commitment.notice_date, commitment.renewal_date
    # The query keeps only commitments with one of the two dates ahead, so this is never empty.
    ahead = [
        (d, kind) for d, kind in ((notice, "notice"), (renewal, "renewal")) if d and d >= today
    ]
    deadline, kind = min(ahead)
    return Renewal(
        id=commitment.pk,
        name=commitment.name,
        provider_name=commitment.provider_name,
        scope=commitment.scope.name if commitment.scope else "",
        owner=person_name(commitment.owner),
        currency=commitment.currency,
        total_amount=commitment.total_amount,
        notice_date=notice,
        renewal_date=renewal,
        auto_renews=commitment.auto_renews,
        deadline=deadline,
        deadline_kind=kind,
        days_to_deadline=(deadline - today).days,
    )
