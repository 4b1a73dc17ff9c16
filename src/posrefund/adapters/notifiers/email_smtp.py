"""Email over SMTP (smtplib). A connection per message: notifications are few, and a fresh connection
never inherits a broken one. The stable message id becomes the ``Message-ID`` header, so a message sent
again after a crash is the same message to the receiving mail system."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from posrefund.domain.notification import OutgoingMessage, SendResult
from posrefund.ports.documents import DocumentMail


@dataclass
class SmtpSender:
    host: str
    port: int
    sender: str
    name: str = "smtp"
    username: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 10.0
    id_domain: str = "posrefund.local"

    def compose(self, to: str, subject: str, text: str, message_id: str) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = f"<{message_id}@{self.id_domain}>"
        msg.set_content(text, charset="utf-8")
        return msg

    def send(self, message: OutgoingMessage) -> SendResult:
        return self._deliver(self.compose(message.to, message.subject, message.text, message.message_id))

    def send_document(self, mail: DocumentMail) -> SendResult:
        """A document by email (the refund-cause summaries): plain text, the HTML page as the alternative a
        mail reader shows, and the PDF attached."""
        msg = self.compose(mail.to, mail.subject, mail.text, mail.message_id)
        msg.add_alternative(mail.html, subtype="html", charset="utf-8")
        for a in mail.attachments:
            maintype, _, subtype = a.mime.partition("/")
            msg.add_attachment(a.content, maintype=maintype, subtype=subtype, filename=a.filename)
        return self._deliver(msg)

    def _deliver(self, msg: EmailMessage) -> SendResult:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
                refused = smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            return SendResult(False, self.name, error=f"recipient refused: {list(exc.recipients.values())[:1]}")
        except smtplib.SMTPResponseException as exc:
            return SendResult(
                False, self.name, retryable=exc.smtp_code >= 400 and exc.smtp_code < 500, error=f"SMTP {exc.smtp_code}"
            )
        except (OSError, smtplib.SMTPException) as exc:
            return SendResult(False, self.name, retryable=True, error=type(exc).__name__)
        if refused:
            return SendResult(False, self.name, error="recipient refused")
        return SendResult(True, self.name, provider_message_id=str(msg["Message-ID"]))
