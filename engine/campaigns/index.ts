export { Dialer, DIALER_DEFAULTS, type DialerLimits, type DialerOptions, type DialerPort, type DialerTimers, type TickStats } from './dialer.js';
export { isWindowOpen, secondsOfDay, WindowError, type CallingWindow } from './window.js';
export { buildPlan, renderTemplate, type PlanInput } from './plan.js';
export { outcomeOf, verdictOf, type AttemptOutcome, type Verdict } from './outcome.js';
