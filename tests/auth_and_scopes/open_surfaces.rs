//! What needs no key: health, reflection, grpc-web with CORS, plain HTTP.

use super::*;

async fn health_needs_no_key_and_reports_serving(server: &common::TestServer) {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;

    let mut client = HealthClient::new(server.channel.clone());
    let names = std::iter::once("").chain(askpro::server::SERVICE_NAMES);
    for name in names {
        let response =
            tokio::time::timeout(CALL_TIMEOUT, client.check(Request::new(HealthCheckRequest { service: name.into() })))
                .await
                .expect("health check timed out")
                .unwrap_or_else(|s| panic!("health {name:?}: {s:?}"))
                .into_inner();
        assert_eq!(response.status(), ServingStatus::Serving, "health of {name:?}");
    }
    let status = client
        .check(Request::new(HealthCheckRequest { service: "askpro.nope.v1.NopeService".into() }))
        .await
        .expect_err("unknown service");
    assert_eq!(status.code(), Code::NotFound);
}

const ASKPRO_SERVICES: [&str; 5] = [
    "askpro.tenant.v1.TenantService",
    "askpro.availability.v1.AvailabilityService",
    "askpro.appointment.v1.AppointmentService",
    "askpro.webhook.v1.WebhookService",
    "askpro.integration.v1.IntegrationService",
];

async fn reflection_lists_the_services_without_a_key(server: &common::TestServer) {
    assert_eq!(askpro::server::SERVICE_NAMES, ASKPRO_SERVICES);

    // v1
    {
        use tonic_reflection::pb::v1::ServerReflectionRequest;
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
        let mut client = ServerReflectionClient::new(server.channel.clone());
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let names = tokio::time::timeout(CALL_TIMEOUT, async {
            let mut stream =
                client.server_reflection_info(tokio_stream::once(request)).await.expect("reflection v1").into_inner();
            let response = stream.message().await.expect("v1 response").expect("one v1 response");
            match response.message_response {
                Some(MessageResponse::ListServicesResponse(list)) => {
                    list.service.into_iter().map(|s| s.name).collect::<Vec<_>>()
                }
                other => panic!("unexpected v1 response {other:?}"),
            }
        })
        .await
        .expect("reflection v1 timed out");
        for service in ASKPRO_SERVICES {
            assert!(names.iter().any(|n| n == service), "v1 lists {service}: {names:?}");
        }
    }
    // The google.rpc error details are described too: grpcurl, buf curl and
    // Postman resolve them through reflection to show errors decoded.
    {
        use tonic_reflection::pb::v1::ServerReflectionRequest;
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
        let mut client = ServerReflectionClient::new(server.channel.clone());
        for symbol in
            ["google.rpc.ErrorInfo", "google.rpc.BadRequest", "google.rpc.RetryInfo", "google.rpc.ResourceInfo"]
        {
            let request = ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::FileContainingSymbol(symbol.into())),
            };
            let response = tokio::time::timeout(CALL_TIMEOUT, async {
                let mut stream =
                    client.server_reflection_info(tokio_stream::once(request)).await.expect("reflection").into_inner();
                stream.message().await.expect("response").expect("one response")
            })
            .await
            .expect("reflection timed out");
            match response.message_response {
                Some(MessageResponse::FileDescriptorResponse(files)) => {
                    use prost::Message;
                    let names: Vec<String> = files
                        .file_descriptor_proto
                        .iter()
                        .map(|bytes| {
                            prost_types::FileDescriptorProto::decode(bytes.as_slice())
                                .expect("a file")
                                .name()
                                .to_owned()
                        })
                        .collect();
                    assert!(names.iter().any(|n| n.ends_with("error_details.proto")), "{symbol}: {names:?}");
                }
                other => panic!("{symbol} is not served: {other:?}"),
            }
        }
    }
    // v1alpha
    {
        use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
        use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
        let mut client = ServerReflectionClient::new(server.channel.clone());
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let names = tokio::time::timeout(CALL_TIMEOUT, async {
            let mut stream = client
                .server_reflection_info(tokio_stream::iter(vec![request]))
                .await
                .expect("reflection v1alpha")
                .into_inner();
            let response = stream.message().await.expect("v1alpha response").expect("one v1alpha response");
            match response.message_response {
                Some(MessageResponse::ListServicesResponse(list)) => {
                    list.service.into_iter().map(|s| s.name).collect::<Vec<_>>()
                }
                other => panic!("unexpected v1alpha response {other:?}"),
            }
        })
        .await
        .expect("reflection v1alpha timed out");
        for service in ASKPRO_SERVICES {
            assert!(names.iter().any(|n| n == service), "v1alpha lists {service}: {names:?}");
        }
    }
}

/// Splits a grpc-web body into (flags, payload) frames.
fn grpc_web_frames(mut body: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut frames = Vec::new();
    while !body.is_empty() {
        assert!(body.len() >= 5, "truncated frame header");
        let flags = body[0];
        let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
        assert!(body.len() >= 5 + len, "truncated frame");
        frames.push((flags, body[5..5 + len].to_vec()));
        body = &body[5 + len..];
    }
    frames
}

async fn grpc_web_over_http1_with_cors(server: &common::TestServer) {
    let tenant = server.tenant("Salon Browser").await;
    let head = format!(
        "POST /askpro.tenant.v1.TenantService/ListBranches HTTP/1.1\r\n\
         Host: {addr}\r\n\
         Content-Type: application/grpc-web+proto\r\n\
         Accept: application/grpc-web+proto\r\n\
         X-Grpc-Web: 1\r\n\
         Origin: http://localhost:5173\r\n\
         Authorization: Bearer {key}\r\n\
         Content-Length: 5\r\n\
         Connection: close\r\n\r\n",
        addr = server.addr,
        key = tenant.reader,
    );
    let response = http1(server.addr, &head, &[0, 0, 0, 0, 0]).await;
    assert_eq!(response.status, 200, "headers {:?}", response.headers);
    assert!(response.header("access-control-allow-origin").is_some(), "CORS allow-origin: {:?}", response.headers);
    let exposed = response.header("access-control-expose-headers").unwrap_or_default().to_ascii_lowercase();
    assert!(exposed.contains("grpc-status"), "expose-headers {exposed:?}");
    assert!(
        response.header("content-type").is_some_and(|t| t.starts_with("application/grpc-web")),
        "content-type {:?}",
        response.header("content-type")
    );
    let frames = grpc_web_frames(&response.body);
    let data = frames.iter().find(|(flags, _)| *flags == 0).expect("a data frame");
    let listed = pb::ListBranchesResponse::decode(data.1.as_slice()).expect("ListBranchesResponse");
    assert_eq!(listed.branches.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(), vec![tenant.branch.id.as_str()]);
    assert!(contains(&response.body, tenant.branch.id.as_bytes()));
    let trailer = frames.iter().find(|(flags, _)| *flags == 0x80).expect("a trailer frame");
    let trailer = String::from_utf8_lossy(&trailer.1).to_ascii_lowercase();
    assert!(trailer.contains("grpc-status:0"), "trailer {trailer:?}");

    // Without a key the same request is UNAUTHENTICATED, readable by the browser.
    let anonymous = head.replace(&format!("Authorization: Bearer {}\r\n", tenant.reader), "");
    let response = http1(server.addr, &anonymous, &[0, 0, 0, 0, 0]).await;
    assert_eq!(response.status, 200);
    assert!(response.header("access-control-allow-origin").is_some());
    let status = response.header("grpc-status").map(str::to_owned).or_else(|| {
        grpc_web_frames(&response.body).into_iter().find(|(flags, _)| *flags == 0x80).and_then(|(_, t)| {
            String::from_utf8_lossy(&t)
                .lines()
                .find_map(|l| l.strip_prefix("grpc-status:").map(|s| s.trim().to_owned()))
        })
    });
    assert_eq!(status.as_deref(), Some("16"), "UNAUTHENTICATED over grpc-web");
}

async fn cors_preflight_allows_grpc_web_headers(server: &common::TestServer) {
    let head = format!(
        "OPTIONS /askpro.tenant.v1.TenantService/ListBranches HTTP/1.1\r\n\
         Host: {addr}\r\n\
         Origin: http://localhost:5173\r\n\
         Access-Control-Request-Method: POST\r\n\
         Access-Control-Request-Headers: authorization,content-type,x-grpc-web\r\n\
         Content-Length: 0\r\n\
         Connection: close\r\n\r\n",
        addr = server.addr,
    );
    let response = http1(server.addr, &head, &[]).await;
    assert!((200..300).contains(&response.status), "preflight status {} {:?}", response.status, response.headers);
    assert!(response.header("access-control-allow-origin").is_some(), "{:?}", response.headers);
    let methods = response.header("access-control-allow-methods").unwrap_or_default().to_ascii_uppercase();
    assert!(methods.contains("POST"), "allow-methods {methods:?}");
    let allowed = response.header("access-control-allow-headers").unwrap_or_default().to_ascii_lowercase();
    for header in ["authorization", "content-type", "x-grpc-web"] {
        assert!(allowed.contains(header), "allow-headers {allowed:?} lacks {header}");
    }
}

async fn plain_http_health_is_json(server: &common::TestServer) {
    let head = format!("GET /health HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", server.addr);
    let response = http1(server.addr, &head, &[]).await;
    assert_eq!(response.status, 200);
    assert!(
        response.header("content-type").is_some_and(|t| t.starts_with("application/json")),
        "content-type {:?}",
        response.header("content-type")
    );
    let json: serde_json::Value = serde_json::from_slice(&response.body).expect("JSON body");
    assert_eq!(json["status"], "serving", "{json}");
    assert_eq!(json["components"]["database"]["status"], "up", "{json}");
}

on_both_databases!(
    health_needs_no_key_and_reports_serving,
    reflection_lists_the_services_without_a_key,
    grpc_web_over_http1_with_cors,
    cors_preflight_allows_grpc_web_headers,
    plain_http_health_is_json,
);
