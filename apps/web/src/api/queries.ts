import type { AccessConfigResponse, RobotListResponse, RobotResponse } from "@robo402/protocol";
import { useQuery } from "@tanstack/react-query";
import { api } from "./client.ts";

export const useAccessConfig = () =>
  useQuery({
    queryKey: ["access-config"],
    queryFn: () => api<AccessConfigResponse>("/api/v1/access/config"),
    staleTime: Number.POSITIVE_INFINITY,
  });

/** The marketplace's robots (`mine`: the caller's own, suspended ones included). */
export const useCatalog = (mine = false) =>
  useQuery({
    queryKey: ["robots", mine],
    queryFn: () => api<{ robots: RobotResponse[] }>(`/api/robots${mine ? "?mine=true" : ""}`),
    select: (answer) => answer.robots,
    // An owner watching their list sees a robot's link come up once its bridge runs.
    refetchInterval: mine ? 5000 : false,
  });

/** Which drive robots are held right now (asks no robot anything, so cheap to refresh). */
export const useDriveAvailability = () =>
  useQuery({
    queryKey: ["v1-robots"],
    queryFn: () => api<RobotListResponse>("/api/v1/robots"),
    refetchInterval: 5000,
  });

export const useRobot = (id: string) =>
  useQuery({ queryKey: ["robot", id], queryFn: () => api<RobotResponse>(`/api/robots/${id}`) });
