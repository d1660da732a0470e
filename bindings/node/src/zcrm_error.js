// The class of every error the zcrm-extid addon throws or rejects with. errors.rs evaluates this expression once
// per addon instance (napi_run_script), exports the class as `ZcrmError` and constructs it with the fields of the
// core error. A real subclass of Error: `instanceof Error`, a stack, and `util.inspect` showing the fields.
(() => {
  class ZcrmError extends Error {
    constructor(message, fields) {
      super(message)
      if (fields !== undefined && fields !== null) Object.assign(this, fields)
    }
  }
  Object.defineProperty(ZcrmError.prototype, 'name', { value: 'ZcrmError', writable: true, configurable: true })
  return ZcrmError
})()
