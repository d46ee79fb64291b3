// PrivacyService over the wire: data exports of the caller's organisation, and erasures of users and
// organisations. Who may call what is in the policy table; who may act on which subject, in the domain.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  DataExportState,
  ErasureState,
  ErasureSubjectType,
  type PrivacyService,
} from "../../proto/gen/arabicstt/v1/privacy_pb.js";
import { userOf } from "../identity/model/context.js";
import type { DataExportStatus } from "./data-export.entity.js";
import type { DataExports, DataExportView } from "./data-exports.js";
import type { Erasure, ErasureStatus, ErasureSubjectType as SubjectType } from "./erasure.entity.js";
import type { Erasures } from "./erasures.js";

const exportStates: Record<DataExportStatus, DataExportState> = {
  pending: DataExportState.PENDING,
  running: DataExportState.RUNNING,
  succeeded: DataExportState.SUCCEEDED,
  failed: DataExportState.FAILED,
};

const erasureStates: Record<ErasureStatus, ErasureState> = {
  pending: ErasureState.PENDING,
  running: ErasureState.RUNNING,
  completed: ErasureState.COMPLETED,
};

const subjectTypes: Record<SubjectType, ErasureSubjectType> = {
  user: ErasureSubjectType.USER,
  organization: ErasureSubjectType.ORGANIZATION,
};

export function toDataExport(view: DataExportView, exports: DataExports) {
  const { row } = view;
  const expiresAt = exports.expiresAt(row);
  return {
    dataExportId: row.id,
    organizationId: typeof row.organization === "string" ? row.organization : row.organization.id,
    state: exportStates[row.status as DataExportStatus],
    progressPercent: row.progressPercent,
    downloadUrl: view.downloadUrl ?? "",
    sizeBytes: BigInt(row.sizeBytes ?? 0),
    error: row.error ?? "",
    createdAt: timestampFromDate(row.createdAt),
    completedAt: row.completedAt ? timestampFromDate(row.completedAt) : undefined,
    expiresAt: expiresAt ? timestampFromDate(expiresAt) : undefined,
  };
}

export function toErasure(erasure: Erasure) {
  return {
    erasureId: erasure.id,
    subjectType: subjectTypes[erasure.subjectType],
    subjectId: erasure.subjectId,
    state: erasureStates[erasure.status as ErasureStatus],
    createdAt: timestampFromDate(erasure.createdAt),
    completedAt: erasure.completedAt ? timestampFromDate(erasure.completedAt) : undefined,
  };
}

export function privacyHandler(exports: DataExports, erasures: Erasures): Partial<ServiceImpl<typeof PrivacyService>> {
  return {
    async createDataExport(_req, ctx) {
      const user = userOf(ctx.values);
      return { dataExport: toDataExport(await exports.create(user.organizationId, user.userId), exports) };
    },
    async getDataExport(req, ctx) {
      return { dataExport: toDataExport(await exports.get(userOf(ctx.values).organizationId, req.dataExportId), exports) };
    },
    async eraseOrganization(req, ctx) {
      const { erasure, alreadyRequested } = await erasures.eraseOrganization(userOf(ctx.values), req.organizationId);
      return { erasure: toErasure(erasure), alreadyRequested };
    },
    async eraseUser(req, ctx) {
      const { erasure, alreadyRequested } = await erasures.eraseUser(userOf(ctx.values), req.userId);
      return { erasure: toErasure(erasure), alreadyRequested };
    },
    async getErasure(req, ctx) {
      return { erasure: toErasure(await erasures.get(userOf(ctx.values), req.erasureId)) };
    },
  };
}
