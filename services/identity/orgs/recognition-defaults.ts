// An organisation's recognition defaults (OrganizationSettings.default_model and default_language_code),
// as every path that recognises speech applies them to a request that leaves a field unset: CreateJob
// today, Recognize and live recognition through the same two functions. The order is always: the request's
// own value, then the organisation's default, then the server's (JOB_DEFAULT_MODEL, DEFAULT_LANGUAGE_CODE).
import type { EntityManager } from "@mikro-orm/core";
import { DEFAULT_LANGUAGE_CODE } from "../../arabic-text/language.js";
import { Organization, type OrganizationSettings } from "../model/organization.entity.js";

/** What an organisation set; "" where it set nothing, so the server's default applies. */
export interface RecognitionDefaults {
  model: string;
  languageCode: string;
}

/** Where the model or language a request runs with came from (for error messages that say whom to ask). */
export type DefaultSource = "request" | "organization" | "server";

export interface ResolvedRecognition {
  model: string;
  modelSource: DefaultSource;
  languageCode: string;
  languageSource: DefaultSource;
}

/** The organisation's defaults; "" for each it did not set (or for an organisation that does not exist). */
export async function recognitionDefaultsOf(em: EntityManager, organizationId: string): Promise<RecognitionDefaults> {
  const organization = await em.findOne(Organization, { id: organizationId }, { fields: ["settings"] });
  return recognitionDefaultsFrom(organization?.settings);
}

/** The defaults in an organisation's settings (as OrganizationSnapshots holds them); none when there are none. */
export function recognitionDefaultsFrom(settings: OrganizationSettings | undefined): RecognitionDefaults {
  return { model: settings?.defaultModel?.trim() ?? "", languageCode: settings?.defaultLanguageCode?.trim() ?? "" };
}

/**
 * The model and language a request runs with: its own where set, else the organisation's, else the
 * server's `serverModel` and the default language.
 */
export function resolveRecognition(
  request: { model?: string; languageCode?: string },
  organization: RecognitionDefaults,
  serverModel: string,
): ResolvedRecognition {
  const [model, modelSource] = pick(request.model, organization.model, serverModel);
  const [languageCode, languageSource] = pick(request.languageCode, organization.languageCode, DEFAULT_LANGUAGE_CODE);
  return { model, modelSource, languageCode, languageSource };
}

function pick(requested: string | undefined, organization: string, server: string): [string, DefaultSource] {
  if (requested) return [requested, "request"];
  if (organization) return [organization, "organization"];
  return [server, "server"];
}
