"""Screen text of the printable documents' pages: the refund application to the bank (退费申请) and the
refund-cause summary (退款原因周报 / 月报)."""

from __future__ import annotations

LABELS_DOCUMENTS: dict[str, dict[str, tuple[str, str]]] = {
    "bank_application": {
        "prepared": ("已准备（待递交）", "Prepared (to submit)"),
        "submitted": ("已递交银行（待答复）", "Submitted (awaiting the bank)"),
        "accepted": ("银行已受理退款", "Accepted by the bank"),
        "rejected": ("银行已拒绝", "Rejected by the bank"),
    },
    "bank_reason": {
        "account_closed": ("商户账户已注销 / 终端已撤机", "Merchant account or terminal closed"),
        "too_old": ("超过终端可退货期限", "Too old for the terminal"),
        "issuer_dispute": ("持卡人通过发卡行争议", "Cardholder disputes through the issuer"),
        "other": ("其他原因", "Other"),
    },
    "bank_channel": {
        "counter": ("银行柜台递交", "At the bank's counter"),
        "mail": ("邮寄", "By post"),
        "portal": ("收单机构商户平台", "Acquirer's merchant portal"),
        "account_manager": ("客户经理转交", "Through the account manager"),
    },
    "event": {
        "bank_application.prepared": ("准备退费申请", "Bank application prepared"),
        "bank_application.submitted": ("退费申请已递交银行", "Bank application submitted"),
        "bank_application.accepted": ("银行受理退费申请", "Bank accepted the application"),
        "bank_application.rejected": ("银行拒绝退费申请", "Bank rejected the application"),
    },
}

EN_DOCUMENTS: dict[str, str] = {
    "退款原因周报 / 月报": "Refund causes, weekly / monthly",
    "摘要本身为中文，与邮件和 PDF 中的相同。": (
        "The summary itself is in Chinese: it is the document merchants receive by email and print as a PDF."
    ),
    "周期（月报 YYYY-MM，周报填该周星期一）": "Period (YYYY-MM for a month, the Monday for a week)",
    "查看": "Show",
    "下载 PDF": "Download PDF",
    "退费申请": "Bank application",
    "退费申请（向银行）": "Refund application to the bank",
    "银行卡退款无法通过终端办理时（商户账户已注销、交易超过终端退货期限、持卡人通过发卡行争议），"
    "打印申请书连同证据递交收单机构或发卡行，并在此登记递交和银行答复。": (
        "When a card refund cannot go through the terminal (account closed, sale too old, cardholder disputing "
        "through the issuer), print the application, hand it to the acquirer or issuer with the evidence, and "
        "record here the submission and the bank's answer."
    ),
    "申请": "Application",
    "申请原因": "Reason",
    "情况说明": "Statement",
    "准备时间": "Prepared",
    "递交": "Submitted",
    "答复期限": "Answer due",
    "银行答复": "Bank's answer",
    "下载申请书 PDF": "Download the form (PDF)",
    "登记递交": "Record the submission",
    "递交日期": "Submitted on",
    "递交方式": "How",
    "银行": "Bank",
    "银行受理编号": "Bank's reference",
    "保存": "Save",
    "登记银行结果": "Record the bank's answer",
    "结果": "Outcome",
    "答复日期": "Answered on",
    "银行答复内容": "Bank's reply",
    "准备新的退费申请": "Prepare a new application",
    "无法通过终端退货的原因": "Why the terminal cannot refund it",
    "随附纸质材料（每行一项）": "Paper documents handed over (one a line)",
    "生成申请书": "Prepare the form",
    "原因周报": "Refund causes",
}
