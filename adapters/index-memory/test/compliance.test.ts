import { indexSuite } from '@peerkit/compliance'
import test from 'ava'
import { MemoryIndex } from '../src/index.js'

indexSuite(test, ({ clock }) => new MemoryIndex({ clock }))
