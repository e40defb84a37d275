//! `#[backends]` (or `#[backends(flavor = "multi_thread", worker_threads = 4)]`, the
//! arguments of `#[tokio::test]`) on an `async fn name()` integration test turns it into
//! a module `name` with two tests, `name::sqlite` and `name::postgres`, each running the
//! body with `apoyo_testkit::TestBackend` set (the harnesses, e.g. `crates/server/tests/common`,
//! opens the app on that backend; the PostgreSQL one skips or fails as
//! `APOYO_TEST_SERVICES` says when no server is configured).

use proc_macro::TokenStream;
use quote::quote;

#[proc_macro_attribute]
pub fn backends(args: TokenStream, item: TokenStream) -> TokenStream {
    let args = proc_macro2::TokenStream::from(args);
    let function = syn::parse_macro_input!(item as syn::ItemFn);
    let name = &function.sig.ident;
    let body = &function.block;
    let attrs = &function.attrs;
    if function.sig.asyncness.is_none() || !function.sig.inputs.is_empty() {
        return syn::Error::new_spanned(&function.sig, "#[backends] needs `async fn name()`")
            .to_compile_error()
            .into();
    }
    let test = if args.is_empty() {
        quote!(#[tokio::test])
    } else {
        quote!(#[tokio::test(#args)])
    };
    quote! {
        mod #name {
            #[allow(unused_imports)]
            use super::*;

            #test
            #(#attrs)*
            async fn sqlite() {
                ::apoyo_testkit::on_backend(::apoyo_testkit::TestBackend::Sqlite, async move #body).await
            }

            #test
            #(#attrs)*
            async fn postgres() {
                ::apoyo_testkit::on_backend(::apoyo_testkit::TestBackend::Postgres, async move #body).await
            }
        }
    }
    .into()
}
