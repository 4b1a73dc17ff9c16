"""A merchant's own account on a wallet channel, for when posrefund refunds as that channel's service provider.

WeChat Pay hands a service provider (服务商) a ``sub_mchid`` for every merchant it onboards; each refund and
query for that merchant's sales must name it. Only the provider's administrator sets it (it decides whose money
a refund moves), for merchants of its own provider; every change is an audit event with the value before.
"""

from __future__ import annotations

import re

from posrefund.domain.errors import Invalid
from posrefund.domain.roles import Actor
from posrefund.ports import ChannelAccountRow, UnitOfWork
from posrefund.service.admin import reachable_merchant
from posrefund.service.deps import Deps
from posrefund.service.records import record

CHANNELS = frozenset({"wechat"})  # channels whose refunds name the sub-merchant account
# Channels an account may be set for: also Alipay (the merchant's account, 2088…) and the acquirer (its merchant
# no.), which only name whose settlement files are the merchant's (see reconciliation.integrity).
ACCOUNT_CHANNELS = CHANNELS | {"alipay", "card"}
_SUB_MCHID = re.compile(r"^[0-9]{8,32}$")  # WeChat Pay merchant numbers are digits (10 today)
_SUB_APPID = re.compile(r"^[A-Za-z0-9_]{1,32}$")  # e.g. wx8888888888888888


def set_channel_account(
    deps: Deps, actor: Actor, merchant_id: str, channel: str, *, sub_mchid: str, sub_appid: str = ""
) -> ChannelAccountRow:
    actor.require("merchant.channel_account")
    if channel not in ACCOUNT_CHANNELS:
        raise Invalid("channel_account.unknown_channel", channel=channel)
    if not _SUB_MCHID.match(sub_mchid):
        raise Invalid("channel_account.invalid_sub_mchid")
    if sub_appid and not _SUB_APPID.match(sub_appid):
        raise Invalid("channel_account.invalid_sub_appid")
    now = deps.clock.now()
    row: ChannelAccountRow = {
        "merchant_id": merchant_id,
        "channel": channel,
        "sub_mchid": sub_mchid,
        "sub_appid": sub_appid,
        "updated_by": actor.id,
        "updated_at": now,
    }
    with deps.uow() as uow:
        reachable_merchant(uow, actor, merchant_id)
        before = uow.merchants.channel_account(merchant_id, channel)
        uow.merchants.put_channel_account(row)
        record(
            uow,
            actor,
            merchant_id,
            "merchant.channel_account_set",
            now,
            channel=channel,
            sub_mchid=sub_mchid,
            sub_appid=sub_appid,
            before_sub_mchid=before["sub_mchid"] if before else "",
            before_sub_appid=before["sub_appid"] if before else "",
        )
        uow.commit()
    return row


def get_channel_account(deps: Deps, actor: Actor, merchant_id: str, channel: str) -> ChannelAccountRow | None:
    actor.require("merchant.channel_account")
    with deps.uow(readonly=True) as uow:
        reachable_merchant(uow, actor, merchant_id)
        return uow.merchants.channel_account(merchant_id, channel)


def sub_merchant_of(uow: UnitOfWork, merchant_id: str, channel: str) -> str:
    """The merchant's sub-merchant number on the channel, carried on every order as ``merchant_no`` ("" none)."""
    account = uow.merchants.channel_account(merchant_id, channel) if channel in CHANNELS else None
    return account["sub_mchid"] if account else ""
