// An SMSC made of the npm `smpp` package's server mode: SMPP written by people who are not
// on this team, for tests/providers/test_smpp_interop.py.
//
//   node tests/fakes/smpp_node_server.js SYSTEM_ID PASSWORD [MO_FROM MO_TO]
//
// Listens on a free port of 127.0.0.1 and prints JSON lines on stdout: first
// {"event":"listening","port":N}, then one per bind, enquire_link, submit_sm (the raw
// short_message in hex, and the text as the package itself decodes it) and deliver_sm_resp.
// After the first submit_sm it sends the bound client three deliver_sm: a GSM-7 reply, a UCS-2
// reply and a delivery receipt (text and TLVs) for that first message.
'use strict';

const smpp = require('smpp');

const [systemId, password, moFrom = '15205550134', moTo = '15205550100'] = process.argv.slice(2);

function emit(event) {
  process.stdout.write(JSON.stringify(event) + '\n');
}

// Keep each PDU's bytes as received, so the test sees short_message before the package's
// decoding (which strips the UDH and turns the rest into text).
const fromBuffer = smpp.PDU.prototype.fromBuffer;
smpp.PDU.prototype.fromBuffer = function (buffer) {
  Object.defineProperty(this, 'raw', { value: Buffer.from(buffer), enumerable: false });
  return fromBuffer.call(this, buffer);
};

function rawParams(pdu) {
  const params = smpp.commands[pdu.command].params;
  const values = {};
  let offset = 16;
  for (const key in params) {
    if (offset >= pdu.raw.length) break;
    values[key] = params[key].type.read(pdu.raw, offset);
    offset += params[key].type.size(values[key]);
  }
  return values;
}

function stamp(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return (
    pad(date.getUTCFullYear() % 100) + pad(date.getUTCMonth() + 1) + pad(date.getUTCDate()) +
    pad(date.getUTCHours()) + pad(date.getUTCMinutes())
  );
}

let messageNumber = 0;
let repliesSent = false;

function sendToClient(session, firstMessageId) {
  const sent = (what) => (pdu) => emit({ event: 'deliver_sm_resp', what, command_status: pdu.command_status });
  session.deliver_sm({
    source_addr_ton: 1, source_addr_npi: 1, source_addr: moFrom,
    dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: moTo,
    data_coding: 0,
    short_message: 'Thanks! Is case #T-000900 still open? I paid the {fee} of €20 @ the desk',
  }, sent('gsm-reply'));
  session.deliver_sm({
    source_addr_ton: 1, source_addr_npi: 1, source_addr: moFrom,
    dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: moTo,
    data_coding: 8,
    short_message: '¿Cuándo me llaman? Gracias 🙏',
  }, sent('ucs2-reply'));
  const now = stamp(new Date());
  session.deliver_sm({
    source_addr_ton: 1, source_addr_npi: 1, source_addr: moFrom,
    dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: moTo,
    esm_class: smpp.ESM_CLASS.MC_DELIVERY_RECEIPT,
    data_coding: 0,
    short_message: `id:${firstMessageId} sub:001 dlvrd:001 submit date:${now} done date:${now} stat:DELIVRD err:000 text:`,
    receipted_message_id: firstMessageId,
    message_state: smpp.MESSAGE_STATE.DELIVERED,
  }, sent('receipt'));
}

const server = smpp.createServer((session) => {
  let bound = false;
  session.on('error', (error) => emit({ event: 'error', message: String(error) }));
  session.on('bind_transceiver', (pdu) => {
    const ok = pdu.system_id === systemId && pdu.password === password;
    emit({ event: 'bind', system_id: pdu.system_id, ok, interface_version: pdu.interface_version });
    if (!ok) {
      session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
      session.close();
      return;
    }
    bound = true;
    session.send(pdu.response({ system_id: 'NODESMSC' }));
  });
  session.on('enquire_link', (pdu) => {
    emit({ event: 'enquire_link' });
    session.send(pdu.response());
  });
  session.on('unbind', (pdu) => {
    session.send(pdu.response());
    session.close();
  });
  session.on('submit_sm', (pdu) => {
    if (!bound) {
      session.send(pdu.response({ command_status: smpp.ESME_RINVBNDSTS }));
      return;
    }
    const raw = rawParams(pdu);
    const decoded = pdu.short_message || {};
    const messageId = 'N' + String(++messageNumber).padStart(7, '0');
    emit({
      event: 'submit_sm',
      message_id: messageId,
      source_addr_ton: raw.source_addr_ton,
      source_addr_npi: raw.source_addr_npi,
      source_addr: raw.source_addr,
      dest_addr_ton: raw.dest_addr_ton,
      destination_addr: raw.destination_addr,
      esm_class: raw.esm_class,
      registered_delivery: raw.registered_delivery,
      data_coding: raw.data_coding,
      short_message: raw.short_message.toString('hex'),
      udh: (decoded.udh || []).map((element) => element.toString('hex')),
      text: typeof decoded.message === 'string' ? decoded.message : null,
    });
    session.send(pdu.response({ message_id: messageId }));
    if (!repliesSent) {
      repliesSent = true;
      sendToClient(session, messageId);
    }
  });
});

server.listen(0, '127.0.0.1', () => emit({ event: 'listening', port: server.address().port }));
process.on('SIGTERM', () => process.exit(0));
