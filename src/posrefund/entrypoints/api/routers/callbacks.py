"""Channel notifications. Authenticated by the channel's signature, not by our tokens: a tampered,
unsigned or stale callback is answered 401 and changes nothing; duplicates are acknowledged."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from posrefund.domain.channel import CallbackRejected
from posrefund.domain.errors import Unauthorized
from posrefund.entrypoints.api.context import Channels, Ctx
from posrefund.entrypoints.api.responses import WITH_BODY, WechatAck, answers
from posrefund.service import execution

router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"])


async def _apply(request: Request, c: Ctx, channels: Channels, channel: str) -> str:
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        return await c.run(execution.apply_callback, c.deps, channels, channel, headers, body)
    except CallbackRejected:
        raise Unauthorized("callback.rejected") from None


@router.post(
    "/wechatpay",
    summary="WeChat Pay refund notification",
    **answers(WechatAck, 401, 422, *WITH_BODY, description="the acknowledgment WeChat Pay expects"),
)
async def wechatpay(request: Request, c: Ctx, channels: Channels) -> Response:
    await _apply(request, c, channels, "wechat")
    return JSONResponse({"code": "SUCCESS", "message": "成功"})  # the acknowledgment WeChat Pay expects


@router.post(
    "/alipay",
    summary="Alipay refund notification",
    response_class=Response,  # the acknowledgment is plain text; refusals are JSON
    **answers(
        None, 401, 422, *WITH_BODY, media_type="text/plain", description="`success`, which stops Alipay resending"
    ),
)
async def alipay(request: Request, c: Ctx, channels: Channels) -> Response:
    await _apply(request, c, channels, "alipay")
    return PlainTextResponse("success")  # Alipay stops resending on this exact body
