import type { InjectionToken } from 'tsyringe'
import type { ParsedTransferOptions } from './options.js'

/** The parsed, frozen options of the default transfer. */
export const TRANSFER_OPTIONS: InjectionToken<ParsedTransferOptions> = Symbol.for('@peerkit/transfer:Options')
