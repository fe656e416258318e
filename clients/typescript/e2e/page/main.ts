// A small booking page on @askpro/client/web: it lists the free slots of the first branch's first
// service, books the first one on a click, and shows appointment changes as WatchAppointments
// reports them. The server URL and API key come from the query string (?server=…&key=…).

import {
  type AskProClient,
  AppointmentChange,
  type Slot,
  connectWeb,
  timestampFromDate,
} from "@askpro/client/web";

const params = new URLSearchParams(location.search);
const client = connectWeb(params.get("server") ?? "", params.get("key") ?? "");

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) {
    throw new Error(`#${id} is missing from the page`);
  }
  return found as T;
}

function show(id: string, text: string, state: string): void {
  const target = element(id);
  target.textContent = text;
  target.dataset["state"] = state;
}

function showError(error: unknown): void {
  show("status", error instanceof Error ? `${error.name}: ${error.message}` : String(error), "error");
}

interface Place {
  branchId: string;
  serviceId: string;
}

async function findPlace(askpro: AskProClient): Promise<Place> {
  const [branch] = (await askpro.tenants.listBranches({})).branches;
  const [service] = (await askpro.tenants.listServices({})).services;
  if (branch === undefined || service === undefined) {
    throw new Error("the tenant has no branch or no service");
  }
  return { branchId: branch.id, serviceId: service.id };
}

async function listSlots(place: Place): Promise<Slot[]> {
  const now = new Date();
  const { slots } = await client.availability.listAvailableSlots({
    ...place,
    timeRange: { startTime: timestampFromDate(now), endTime: timestampFromDate(new Date(now.getTime() + 7 * 86_400_000)) },
    pageSize: 10,
  });
  const list = element("slots");
  list.replaceChildren(
    ...slots.map((slot) => {
      const item = document.createElement("li");
      item.textContent = `${slot.localStartTime} with staff member ${slot.staffId.slice(-6)}`;
      item.dataset["start"] = slot.localStartTime;
      item.dataset["staffId"] = slot.staffId;
      return item;
    }),
  );
  show("status", `${slots.length} free slots`, "ready");
  return slots;
}

async function book(place: Place, slot: Slot): Promise<void> {
  const { appointment } = await client.appointments.createAppointment({
    slot: { case: "explicitSlot", value: { ...place, staffId: slot.staffId, startTime: slot.startTime } },
    customer: { case: "newCustomer", value: { phoneNumber: params.get("phone") ?? "0151 24681357", displayName: "Web Booker" } },
  });
  const booking = element("booking");
  booking.textContent = `Booked ${slot.localStartTime} (appointment ${appointment?.id})`;
  booking.dataset["appointmentId"] = appointment?.id ?? "";
}

/** Follows the branch's appointment changes until the page closes; heartbeats are not shown. */
async function watch(place: Place): Promise<void> {
  const changes = client.appointments.watchAppointments(
    { branchId: place.branchId },
    { onHeader: () => show("watch", "Watching for changes", "open") },
  );
  for await (const { change, appointment } of changes) {
    if (change === AppointmentChange.HEARTBEAT || appointment === undefined) {
      continue;
    }
    const item = document.createElement("li");
    item.textContent = `${AppointmentChange[change]}: ${appointment.id}`;
    item.dataset["change"] = AppointmentChange[change];
    item.dataset["appointmentId"] = appointment.id;
    element("events").append(item);
  }
  show("watch", "The server ended the stream", "ended");
}

async function main(): Promise<void> {
  const place = await findPlace(client);
  watch(place).catch((error: unknown) => show("watch", String(error), "error"));
  let slots = await listSlots(place);
  const button = element<HTMLButtonElement>("book");
  button.disabled = slots.length === 0;
  button.addEventListener("click", () => {
    const [first] = slots;
    if (first === undefined) {
      return;
    }
    button.disabled = true;
    book(place, first)
      .then(async () => {
        slots = await listSlots(place);
      })
      .catch(showError)
      .finally(() => (button.disabled = slots.length === 0));
  });
}

main().catch(showError);
