//! Installs the JavaScript half of the addon (`glue.js`) once per addon instance and calls into it: the
//! `ZcrmError` class, the bookkeeping of Promise-returning calls (caller's stack, `AbortSignal`, `timeoutMs`),
//! and the reading of a bulk job's rows from any Iterable or AsyncIterable. The native callbacks the glue calls
//! back (`abort`, `timeout`, `deliver`) are created here.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::call::{self, Interrupt};

/// The helpers object `glue.js` returns, kept for the addon instance's lifetime.
struct Glue(ObjectRef<false>);

/// The glue's helpers.
pub fn helpers(env: &Env) -> Result<Object<'_>> {
    let glue = env.get_instance_data::<Glue>()?.ok_or_else(|| Error::from_reason("zcrm-extid: glue not installed"))?;
    glue.0.get_value(env)
}

/// Calls the glue's helper `name`.
pub fn call<Args: JsValuesTupleIntoVec, Return: FromNapiValue>(env: &Env, name: &str, args: Args) -> Result<Return> {
    let function: Function<Args, Return> = helpers(env)?.get_named_property(name)?;
    function.call(args)
}

/// Runs once per addon instance, after the `#[napi]` items are registered: evaluates the glue with the native
/// callbacks, keeps its helpers, exports the real `ZcrmError` in place of the placeholder class and makes
/// `RelatedIterator` async-iterable.
#[napi(module_exports)]
pub fn install(mut exports: Object, env: Env) -> Result<()> {
    let factory: Function<FnArgs<(Object,)>, Object> = env.run_script(include_str!("glue.js"))?;
    let mut native = Object::new(&env)?;
    native.set_named_property(
        "abort",
        env.create_function_from_closure::<FnArgs<(i64,)>, (), _>("abort", |ctx| {
            call::interrupt(ctx.get::<i64>(0)?, Interrupt::Aborted);
            Ok(())
        })?,
    )?;
    native.set_named_property(
        "timeout",
        env.create_function_from_closure::<FnArgs<(i64,)>, (), _>("timeout", |ctx| {
            call::interrupt(ctx.get::<i64>(0)?, Interrupt::TimedOut);
            Ok(())
        })?,
    )?;
    native.set_named_property(
        "deliver",
        env.create_function_from_closure::<FnArgs<(i64, Array, bool, bool)>, (), _>("deliver", |ctx| {
            crate::rows::deliver(ctx.env, ctx.get::<i64>(0)?, ctx.get::<Array>(1)?, ctx.get(2)?, ctx.get(3)?)
        })?,
    )?;
    let helpers = factory.call(FnArgs::from((native,)))?;
    env.set_instance_data(Glue(helpers.create_ref::<false>()?), (), |_| {})?;
    let class: Unknown = helpers.get_named_property("ZcrmError")?;
    exports.set_named_property("ZcrmError", class)?;
    let iterator: Unknown = exports.get_named_property("RelatedIterator")?;
    call::<FnArgs<(Unknown,)>, Unknown>(&env, "makeAsyncIterable", FnArgs::from((iterator,)))?;
    crate::reconcile::install(&env, &exports)?;
    Ok(())
}
