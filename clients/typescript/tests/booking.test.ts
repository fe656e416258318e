// The voice-agent booking flow through the Node client (gRPC over HTTP/2), and a watch that
// sees it, against the real server.

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  AppointmentChange,
  AppointmentStatus,
  type NodeAskProClient,
  type WatchAppointmentsResponse,
  connectNode,
  timestampDate,
} from "../src/node.js";
import { type RunningServer, startServer } from "./support/server.js";
import { freeSlots } from "./support/slots.js";

let server: RunningServer;
let client: NodeAskProClient;

beforeAll(async () => {
  server = await startServer();
  client = connectNode(server.baseUrl, server.demo.agent_key);
});

afterAll(async () => {
  client?.close();
  await server?.stop();
});

describe("booking through the Node client", () => {
  test("find, hold, book, reschedule and cancel", async () => {
    const { demo } = server;
    const slots = await freeSlots(client, demo);
    expect(slots.length).toBeGreaterThanOrEqual(2);
    const first = slots[0]!;
    const later = slots[slots.length - 1]!;

    const callId = `call-${crypto.randomUUID()}`;
    const { hold } = await client.availability.holdSlot({
      branchId: demo.branch_id,
      serviceId: demo.service_ids[0],
      staffId: first.staffId,
      startTime: first.startTime,
      holdKey: callId,
    });
    expect(timestampDate(hold!.startTime!)).toEqual(timestampDate(first.startTime!));

    const booked = await client.appointments.createAppointment({
      slot: { case: "fromHold", value: { holdId: hold!.id, holdKey: callId } },
      customer: { case: "newCustomer", value: { phoneNumber: "0151 23456789", displayName: "Ada Caller" } },
    });
    const appointment = booked.appointment!;
    expect(timestampDate(appointment.startTime!)).toEqual(timestampDate(first.startTime!));
    expect(booked.customer!.phoneNumber).toBe("+4915123456789");

    const moved = await client.appointments.rescheduleAppointment({
      id: appointment.id,
      startTime: later.startTime,
      staffId: later.staffId,
    });
    expect(timestampDate(moved.appointment!.startTime!)).toEqual(timestampDate(later.startTime!));
    expect(moved.appointment!.staffId).toBe(later.staffId);

    const cancelled = await client.appointments.cancelAppointment({ id: appointment.id, reason: "caller cancelled" });
    expect(cancelled.appointment!.status).toBe(AppointmentStatus.CANCELLED);
    expect(cancelled.appointment!.cancelReason).toBe("caller cancelled");

    const stored = await client.appointments.getAppointment({ id: appointment.id });
    expect(stored.appointment!.status).toBe(AppointmentStatus.CANCELLED);
  });

  test("a given request_id is sent as is, so resending the create books once", async () => {
    const { demo } = server;
    const slot = (await freeSlots(client, demo, 2))[0]!;
    const request = {
      requestId: crypto.randomUUID(),
      slot: {
        case: "explicitSlot" as const,
        value: { branchId: demo.branch_id, serviceId: demo.service_ids[2], staffId: slot.staffId, startTime: slot.startTime },
      },
      customer: { case: "newCustomer" as const, value: { phoneNumber: "0151 55501234" } },
    };
    const first = await client.appointments.createAppointment(request);
    const again = await client.appointments.createAppointment(request);
    expect(again.appointment!.id).toBe(first.appointment!.id);
  });

  test("a watch outlives the unary deadline and reports a booking made after it opened", async () => {
    const { demo } = server;
    // A client whose unary deadline is far shorter than the time the stream stays open.
    const watcher = connectNode(server.baseUrl, demo.agent_key, { timeoutMs: 500 });
    const stop = new AbortController();
    try {
      let opened!: () => void;
      const open = new Promise<void>((resolveOpen) => (opened = resolveOpen));
      const stream = watcher.appointments.watchAppointments(
        { branchId: demo.branch_id },
        { signal: stop.signal, onHeader: () => opened() },
      );
      const events: WatchAppointmentsResponse[] = [];
      const created = (async () => {
        for await (const event of stream) {
          events.push(event);
          if (event.change === AppointmentChange.CREATED) {
            return event;
          }
        }
        throw new Error("the watch ended without a CREATED event");
      })();
      created.catch(() => {}); // awaited below; aborting at the end must not be unhandled
      await withTimeout(open, 10_000, "the watch did not open");
      await new Promise((r) => setTimeout(r, 1000)); // twice the unary deadline

      const slot = (await freeSlots(client, demo, 3))[0]!;
      const booked = await client.appointments.createAppointment({
        slot: {
          case: "explicitSlot",
          value: { branchId: demo.branch_id, serviceId: demo.service_ids[3], staffId: slot.staffId, startTime: slot.startTime },
        },
        customer: { case: "newCustomer", value: { phoneNumber: "0151 55509876" } },
      });
      const event = await withTimeout(created, 10_000, "no CREATED event arrived");
      expect(event.appointment!.id).toBe(booked.appointment!.id);
    } finally {
      stop.abort();
      watcher.close();
    }
  });
});

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
