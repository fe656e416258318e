// Small builders the tests share: a search window and the demo branch's free slots.

import type { AskProClient, Slot } from "../../src/index.js";
import { timestampFromDate } from "../../src/index.js";
import type { Demo } from "./server.js";

/** The next `days` days from now, as a TimeRange init. */
export function nextDays(days: number) {
  const now = new Date();
  return { startTime: timestampFromDate(now), endTime: timestampFromDate(new Date(now.getTime() + days * 86_400_000)) };
}

/** Free slots of the demo branch for one service over the next two weeks. */
export async function freeSlots(client: AskProClient, demo: Demo, serviceIndex = 0): Promise<Slot[]> {
  const response = await client.availability.listAvailableSlots({
    branchId: demo.branch_id,
    serviceId: demo.service_ids[serviceIndex],
    timeRange: nextDays(14),
    pageSize: 50,
  });
  return response.slots;
}
