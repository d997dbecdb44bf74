import { CommandError } from '../errors.js'

/** Settles like `promise`, or rejects with CommandError(`message`) after `ms`: no command hangs. */
export function withDeadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CommandError(`${message} (after ${ms} ms)`)), ms)
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}
