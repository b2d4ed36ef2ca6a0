import { connect, isIP, type Socket } from "node:net";
import { isOutboundError, type OutboundPolicy } from "@cloudforet/outbound";
import nodemailer from "nodemailer";
import type SMTPTransport from "nodemailer/lib/smtp-transport";
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
 * Sends one e-mail over SMTP with nodemailer (a fresh connection per attempt). The server's name is
 * resolved and checked against the outbound policy first, then nodemailer connects to that checked
 * address, with the name as TLS servername (so certificates are still verified against it and no
 * second resolution can point elsewhere). The whole exchange has one deadline (the attempt's,
 * capped by the outbound policy's); past it the connection is destroyed. SMTP 4xx replies and connection problems are retryable;
 * 5xx replies (bad mailbox, refused login) are not. Error texts carry the reply code, never the
 * server's reply text, and name only the host.
 */
export async function sendEmail(policy: OutboundPolicy, settings: EmailSettings, message: EmailMessage, timeoutMs: number): Promise<void> {
  if (message.to.length === 0) {
    throw new DeliveryFailure("no e-mail recipient: Send named no address and the channel has no options.to", false);
  }
  const host = settings.host.replace(/^\[|\]$/g, "");
  const deadline = Math.min(timeoutMs, policy.timeoutMs);
  let address: string;
  try {
    [{ address }] = await policy.resolveAllowed(host);
  } catch (err) {
    if (isOutboundError(err)) throw new DeliveryFailure(err.kind === "refused" ? err.message : `SMTP: ${err.message}`, err.retryable, { cause: err });
    throw new DeliveryFailure(`SMTP: could not connect to ${host}`, true, { cause: err });
  }
  // nodemailer's own timeouts are per phase and per silence: a server dripping an endless "250-"
  // reply resets them forever. The attempt's deadline is therefore enforced here, over the whole
  // exchange: at `deadline` the send is aborted and the socket (which we open, see getSocket)
  // destroyed, whatever nodemailer is waiting for.
  const abort = new AbortController();
  const sockets = new Set<Socket>();
  const timer = setTimeout(() => {
    abort.abort();
    for (const socket of sockets) socket.destroy();
  }, deadline);
  const transport = nodemailer.createTransport({
    host: address,
    port: settings.port,
    secure: settings.secure,
    auth: settings.auth,
    ...(isIP(host) ? {} : { servername: host }),
    connectionTimeout: deadline,
    greetingTimeout: deadline,
    socketTimeout: deadline,
    dnsTimeout: deadline,
    // Closing means destroying: a graceful QUIT/FIN could wait on the hostile server again.
    socketCloseTimeout: 0,
    // The connection to the checked address is ours, so the deadline can destroy it (nodemailer
    // still upgrades it to TLS for `secure`, with `servername`).
    getSocket(_options, callback) {
      const socket = connect({ host: address, port: settings.port });
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
      const onError = (err: Error) => callback(err, undefined as never);
      socket.once("error", onError);
      socket.once("connect", () => {
        socket.removeListener("error", onError);
        callback(null, { connection: socket });
      });
    },
  } as SMTPTransport.Options);
  try {
    await transport.sendMail({ from: message.from, to: message.to, subject: message.subject, text: message.text, html: message.html, signal: abort.signal } as SMTPTransport.MailOptions);
  } catch (err) {
    if (abort.signal.aborted) throw new DeliveryFailure(`SMTP: timed out after ${deadline} ms`, true, { cause: err });
    const smtp = err as SmtpError;
    if (typeof smtp.responseCode === "number") {
      throw new DeliveryFailure(`SMTP ${smtp.responseCode}${smtp.code ? ` (${smtp.code})` : ""}`, smtp.responseCode < 500, { cause: err });
    }
    if (smtp.code === "ETIMEDOUT") throw new DeliveryFailure(`SMTP: timed out after ${deadline} ms`, true, { cause: err });
    throw new DeliveryFailure(`SMTP: could not connect to ${host}`, true, { cause: err });
  } finally {
    clearTimeout(timer);
    transport.close();
    for (const socket of sockets) socket.destroy();
  }
}
