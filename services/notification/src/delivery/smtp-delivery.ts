import nodemailer from "nodemailer";
import type { EmailSettings } from "../channels/channel-settings";
import { DeliveryFailure } from "./delivery-failure";
import type { EmailMessage } from "./message-formats";

/** nodemailer's error fields that say what the server (or the connection) did. */
interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
}

/**
 * Sends one e-mail over SMTP with nodemailer (a fresh connection per attempt). SMTP 4xx replies and
 * connection problems are retryable; 5xx replies (bad mailbox, refused login) are not.
 */
export async function sendEmail(settings: EmailSettings, message: EmailMessage, timeoutMs: number): Promise<void> {
  if (message.to.length === 0) {
    throw new DeliveryFailure("no e-mail recipient: Send named no address and the channel has no options.to", false);
  }
  const transport = nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    auth: settings.auth,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
  });
  try {
    await transport.sendMail({ from: message.from, to: message.to, subject: message.subject, text: message.text, html: message.html });
  } catch (err) {
    const smtp = err as SmtpError;
    if (typeof smtp.responseCode === "number") {
      throw new DeliveryFailure(`SMTP ${smtp.responseCode}: ${(smtp.response ?? smtp.message).trim()}`, smtp.responseCode < 500, { cause: err });
    }
    throw new DeliveryFailure(`SMTP ${smtp.code ?? "error"}: ${smtp.message}`, true, { cause: err });
  } finally {
    transport.close();
  }
}
