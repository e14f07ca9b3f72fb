import { ApplicationFailure } from '@temporalio/common';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { z } from 'zod';
import { FailureType } from '../../../domain/failures';
import { httpRequest, parseResponse } from '../http';
import { type CallControl } from '../types';

/**
 * Workday Adaptive Planning's XML API as its knowledge base describes it (Integration › Managing Data
 * Integration › API Documentation: "Request and Response Message Formats", "Adaptive Planning REST API"): every
 * call is one stateless `POST …/api/v<N>` whose body is an XML document `<call method callerName>` carrying a
 * `<credentials login password [instanceCode]/>` and the method's own elements; the answer is
 * `<response success="true|false">` with `<messages><message key>` and the method's `<output>`. A refusal
 * (bad credentials: `error-authentication-failure`) comes back as HTTP 200 with `success="false"` (seen in
 * public clients; the knowledge base does not say which status it uses). v40 is the version in use in 2024.
 */

export const SYSTEM = 'adaptive';

export interface AdaptiveConfig {
  /** `https://api.adaptiveinsights.com`; the simulator's URL in development. */
  baseUrl: string;
  apiVersion: number;
  login: string;
  password: string;
  /** The instance to act in when the login reaches several (exportInstances lists them). */
  instanceCode?: string;
  timeoutMs: number;
}

/** The elements a method takes besides its credentials, as fast-xml-parser builds them (`@_` attributes). */
export type XmlElements = Record<string, unknown>;

const ATTR = '@_';
const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: ATTR,
  suppressEmptyNode: true,
  // 'true' is sent as the attribute's value, as the documented requests write it.
  suppressBooleanAttributes: false,
});
// Every element that can repeat is read as a list, whatever one answer holds.
const LISTS = new Set(['message', 'version', 'account', 'level', 'row']);
export const adaptiveXmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: ATTR,
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  isArray: (name) => LISTS.has(name),
});

const Message = z.union([
  z.string(),
  z.object({ '#text': z.string().optional(), [`${ATTR}key`]: z.string().optional() }).passthrough(),
]);
const Envelope = z.object({
  response: z
    .object({
      [`${ATTR}success`]: z.enum(['true', 'false']),
      messages: z
        .union([z.literal(''), z.object({ message: z.array(Message).optional() }).passthrough()])
        .optional(),
      // The documented example puts a message right under the response.
      message: z.array(Message).optional(),
      output: z.unknown().optional(),
    })
    .passthrough(),
});

export interface AdaptiveMessage {
  key?: string;
  text: string;
}

export interface AdaptiveAnswer {
  messages: AdaptiveMessage[];
  output: unknown;
}

/** The `<call>` document for a method (exported for the contract tests). */
export function callDocument(
  config: Pick<AdaptiveConfig, 'login' | 'password' | 'instanceCode'>,
  method: string,
  elements: XmlElements,
): string {
  return `<?xml version='1.0' encoding='UTF-8'?>\n${builder.build({
    call: {
      [`${ATTR}method`]: method,
      [`${ATTR}callerName`]: 'closeloop',
      credentials: {
        [`${ATTR}login`]: config.login,
        [`${ATTR}password`]: config.password,
        ...(config.instanceCode ? { [`${ATTR}instanceCode`]: config.instanceCode } : {}),
      },
      ...elements,
    },
  })}`;
}

/** Reads a `<response>` document: its messages and output, or why it is not one. */
export function readResponse(xml: string, what: string): { success: boolean } & AdaptiveAnswer {
  let parsed: unknown;
  try {
    parsed = adaptiveXmlParser.parse(xml);
  } catch (err) {
    throw ApplicationFailure.create({
      type: FailureType.ConnectorProtocol,
      message: `${SYSTEM} ${what} answered with a document that is not XML: ${(err as Error).message}`,
      nonRetryable: true,
    });
  }
  const { response } = parseResponse(SYSTEM, what, Envelope, parsed);
  const listed = [
    ...(typeof response.messages === 'object' ? (response.messages.message ?? []) : []),
    ...(response.message ?? []),
  ];
  return {
    success: response[`${ATTR}success`] === 'true',
    messages: listed.map((m) =>
      typeof m === 'string'
        ? { text: m }
        : { key: m[`${ATTR}key`] as string | undefined, text: String(m['#text'] ?? '') },
    ),
    output: response.output,
  };
}

export function createAdaptiveXmlApi(config: AdaptiveConfig) {
  const url = `${config.baseUrl.replace(/\/$/, '')}/api/v${config.apiVersion}`;
  return {
    /**
     * Calls one method; `success="false"` is a refusal for good (bad credentials: unauthorised; anything else:
     * rejected, with Adaptive's messages), while 5xx, 429 and timeouts are retried by httpRequest's rules.
     */
    async call(method: string, elements: XmlElements, _control: CallControl = {}): Promise<AdaptiveAnswer> {
      const res = await httpRequest({
        system: SYSTEM,
        method: 'POST',
        url,
        headers: { 'Content-Type': 'text/xml; charset=UTF-8', Accept: 'text/xml, application/xml' },
        body: callDocument(config, method, elements),
        timeoutMs: config.timeoutMs,
      });
      const answer = readResponse(await res.text(), method);
      if (answer.success) return answer;
      const reason = answer.messages.map((m) => (m.key ? `${m.key}: ${m.text}` : m.text)).join('; ');
      throw ApplicationFailure.create({
        type: answer.messages.some((m) => m.key === 'error-authentication-failure')
          ? FailureType.ConnectorUnauthorized
          : FailureType.ConnectorRejected,
        message: `${SYSTEM} ${method} refused: ${reason || '(no message)'}`,
        nonRetryable: true,
        details: [{ system: SYSTEM, messages: answer.messages }],
      });
    },
  };
}

export type AdaptiveXmlApi = ReturnType<typeof createAdaptiveXmlApi>;

/** An XML attribute of a parsed element, as text. */
export const attr = (element: unknown, name: string): string | undefined => {
  const v = (element as Record<string, unknown> | undefined)?.[`${ATTR}${name}`];
  return v === undefined ? undefined : String(v);
};
export { ATTR };
