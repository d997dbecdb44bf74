import { defineProtocol } from '@peerkit/core'
import { z } from 'zod'

/** A permissive copy of `peerkit/flooding/1`, so a raw test peer can also send what the real schema refuses. */
export const rawProtocol = defineProtocol('peerkit/flooding/1', z.any(), z.any())
