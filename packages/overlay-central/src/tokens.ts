import type { InjectionToken } from 'tsyringe'
import type { CentralOptions, DirectoryServerOptions } from './options.js'

/** The validated options of the `central` overlay. */
export const CENTRAL_OPTIONS: InjectionToken<Readonly<Required<CentralOptions>>> = Symbol.for(
  '@peerkit/overlay-central:CentralOptions',
)
/** The validated options of a `DirectoryServer`. */
export const DIRECTORY_SERVER_OPTIONS: InjectionToken<Readonly<Required<DirectoryServerOptions>>> =
  Symbol.for('@peerkit/overlay-central:DirectoryServerOptions')
